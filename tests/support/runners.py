"""Job runners as real processes (`flask jobs run`) on a test's database and SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.mail import enqueue
from booking.models import OutboxMessage
from tests.support.keys import PRE_DECLARATION_KEY, SECRET_KEY
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]


def queue(app: Flask, count: int, start: int = 0) -> None:
    """Put `count` numbered emails in the outbox."""
    with app.app_context():
        for number in range(start, start + count):
            message = EmailMessage()
            message["Subject"] = f"message {number}"
            message["From"] = "ne-pas-repondre@rdv.test"
            message["To"] = f"citoyen{number}@example.org"
            message.set_content(f"Contenu {number}")
            enqueue(message, "test")
        db.session.commit()


class Runners:
    """Start and kill job-runner processes on the test's database and SMTP server."""

    def __init__(self, database_uri: str, tmp_path: Path, smtp: SmtpServer) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_uri,
            "SECRET_KEY": SECRET_KEY,
            "PRE_DECLARATION_KEYS": PRE_DECLARATION_KEY,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "JOBS_POLL_SECONDS": "0.2",
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """A new runner whose log goes to tmp_path/name.log."""
        with (self.tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its copy
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        """What a runner has printed so far."""
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        """Kill whatever is left."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def all_marked_sent(app: Flask) -> bool:
    """Whether the outbox records every message as sent (not only received by SMTP)."""
    with app.app_context():
        pending = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
        )
        db.session.remove()
    return pending == 0


def subjects(smtp: SmtpServer) -> list[str]:
    """Subjects received, in order."""
    return [str(message["Subject"]) for message in smtp.messages]

"""`flask jobs run` as real processes: killed mid-batch, and two started at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.mail import enqueue
from booking.models import OutboxMessage, RunnerHeartbeat
from tests.smtp import SmtpServer, wait_for

ROOT = Path(__file__).resolve().parents[1]


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
            "SECRET_KEY": "test-secret",
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


@pytest.fixture
def runners(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[tuple[Runners, SmtpServer]]:
    """A slow SMTP server (0.1 s a message) and a way to start runners."""
    smtp = SmtpServer(delay=0.1)
    smtp.start()
    started = Runners(database_uri, tmp_path, smtp)
    yield started, smtp
    started.stop_all()
    smtp.stop()


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


def test_runner_killed_mid_batch_then_restarted_loses_no_email(
    app: Flask, runners: tuple[Runners, SmtpServer]
) -> None:
    started, smtp = runners
    queue(app, 30)
    first = started.start("first")
    wait_for(lambda: len(smtp.messages) >= 5)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(smtp.messages) < 30  # killed in the middle of its batch
    started.start("second")
    expected = {f"message {n}" for n in range(30)}
    wait_for(lambda: expected <= set(subjects(smtp)), timeout=60)
    # At most the message in flight when the process died is sent twice.
    assert len(subjects(smtp)) - len(expected) <= 1


def test_two_runners_one_active_the_other_takes_over(
    app: Flask, runners: tuple[Runners, SmtpServer]
) -> None:
    started, smtp = runners
    active = started.start("a")
    wait_for(lambda: "takes the lead" in started.log("a"))
    standby = started.start("b")
    wait_for(lambda: "stands by" in started.log("b"))
    queue(app, 10)
    wait_for(lambda: len(smtp.messages) >= 10, timeout=30)
    assert sorted(subjects(smtp)) == sorted(f"message {n}" for n in range(10))  # once each
    assert "takes the lead" not in started.log("b")
    # Killed only once its work is recorded: between the SMTP server's acceptance and that
    # commit, a killed runner's last message is sent again (the documented window).
    wait_for(lambda: all_marked_sent(app))

    active.send_signal(signal.SIGKILL)
    active.wait(timeout=10)
    wait_for(lambda: "takes the lead" in started.log("b"), timeout=30)
    queue(app, 5, start=10)
    wait_for(lambda: len(smtp.messages) >= 15, timeout=30)
    assert sorted(subjects(smtp)) == sorted(f"message {n}" for n in range(15))

    def holder() -> str:
        with app.app_context():
            db.session.expire_all()
            beat = db.session.scalar(select(RunnerHeartbeat))
            return beat.holder if beat else ""

    wait_for(lambda: holder().endswith(f":{standby.pid}"))
    standby.send_signal(signal.SIGTERM)  # a clean stop on request
    assert standby.wait(timeout=15) == 0

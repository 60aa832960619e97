"""`flask jobs run` as real processes: killed mid-batch, and two started at once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.jobs import RUNNER_LOCK_KEY
from booking.models import RunnerHeartbeat
from tests.support.runners import Runners, all_marked_sent, queue, subjects
from tests.support.smtp import SmtpServer, wait_for


@pytest.fixture
def runners(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[tuple[Runners, SmtpServer]]:
    """A slow SMTP server (0.1 s a message) and a way to start runners."""
    smtp = SmtpServer(delay=0.1)
    smtp.start()
    started = Runners(database_uri, tmp_path, smtp)
    yield started, smtp
    started.stop_all()
    smtp.stop()


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


def cut_lock_connection(database_uri: str) -> int:
    """Terminate the database session holding the runners' advisory lock, as a network cut
    would; return its process id."""
    high, low = RUNNER_LOCK_KEY >> 32, RUNNER_LOCK_KEY & 0xFFFFFFFF
    with psycopg.connect(database_uri.replace("+psycopg", ""), autocommit=True) as connection:
        pid = connection.execute(
            # pg_locks spans the server: this run's database only (parallel test workers
            # each have their own, and their own runners).
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (high, low),
        ).fetchone()
        assert pid is not None, "no runner holds the lock"
        connection.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
        return int(pid[0])


def test_a_runner_survives_two_cut_connections_while_another_takes_over(
    app: Flask, database_uri: str, runners: tuple[Runners, SmtpServer]
) -> None:
    if not database_uri.startswith("postgresql"):
        pytest.skip("on SQLite the lock is a file of the machine, with no connection to cut")
    started, smtp = runners
    first = started.start("a")
    wait_for(lambda: "takes the lead" in started.log("a"))
    second = started.start("b")
    wait_for(lambda: "stands by" in started.log("b"))

    cut_lock_connection(database_uri)  # the active runner's lock goes with its connection
    wait_for(lambda: "lost its lock" in started.log("a"), timeout=30)
    wait_for(lambda: "takes the lead" in started.log("b"), timeout=30)
    queue(app, 5)
    wait_for(lambda: len(smtp.messages) >= 5, timeout=30)

    cut_lock_connection(database_uri)  # and again, a few seconds later: now the other one
    wait_for(lambda: "lost its lock" in started.log("b"), timeout=30)
    wait_for(lambda: started.log("a").count("takes the lead") == 2, timeout=30)
    queue(app, 5, start=5)
    wait_for(lambda: len(smtp.messages) >= 10, timeout=30)

    assert first.poll() is None  # both still running
    assert second.poll() is None
    assert sorted(subjects(smtp)) == sorted(f"message {n}" for n in range(10))  # once each

"""The job runner: `flask --app wsgi jobs run` runs the outbox, reminders, holds and purge.

Never started by the web workers: one runner process, and only one active at a time even
when several are started (a PostgreSQL advisory lock, or a file lock on SQLite). The others
stand by and take over when the active one dies, since its lock dies with it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Connection, text

from booking import clock
from booking.extensions import db
from booking.services.health import heartbeat
from booking.services.outbox import queue_reminders, release_expired_holds, send_outbox
from booking.services.privacy import purge_personal_data

log = logging.getLogger(__name__)

RUNNER_LOCK_KEY = 7_310_042_017  # any constant shared by every runner of the database


class RunnerLock:
    """Held by the one active runner: a session advisory lock, or an flock on SQLite."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.connection: Connection | None = None
        self.file: IO[str] | None = None

    def acquire(self) -> bool:
        """Try once; True when this process is now the active runner."""
        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name == "postgresql":
            connection = engine.connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": RUNNER_LOCK_KEY}
            ).scalar()
            connection.commit()
            if got:
                self.connection = connection
                return True
            connection.close()
            return False
        path = Path(self.app.instance_path) / "jobs-runner.lock"
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.file = handle
        return True

    def still_held(self) -> bool:
        """Whether the lock is still ours (the database connection may have dropped)."""
        if self.connection is None:
            return self.file is not None
        try:
            self.connection.execute(text("SELECT 1")).scalar()
            self.connection.commit()
            return True
        except Exception:  # any failure means the lock may be gone
            return False


def run(app: Flask) -> None:
    """Stand by until this runner is the active one, then run the jobs until stopped."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    poll = float(app.config["JOBS_POLL_SECONDS"])
    lock = RunnerLock(app)
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announced = False
    while not lock.acquire():
        if stopping:
            return
        if not announced:
            log.info("another job runner holds the lead; %s stands by", holder)
            announced = True
        time.sleep(poll)
    log.info("job runner %s takes the lead", holder)
    scheduler = BlockingScheduler(timezone="UTC")

    def in_context(job: Any, *args: Any) -> None:
        with app.app_context():
            try:
                job(*args)
            finally:
                db.session.remove()

    def watch() -> None:
        if stopping or not lock.still_held():
            log.warning("job runner %s stops (signal or lost lock)", holder)
            scheduler.shutdown(wait=False)

    options = {"coalesce": True, "max_instances": 1, "next_run_time": clock.now()}
    scheduler.add_job(in_context, "interval", args=[heartbeat, holder], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[send_outbox], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[release_expired_holds], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[queue_reminders], seconds=60, **options)
    scheduler.add_job(in_context, "interval", args=[purge_personal_data], hours=1, **options)
    scheduler.add_job(watch, "interval", seconds=min(poll, 1.0), **options)
    scheduler.start()

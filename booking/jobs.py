"""The job runner: `flask --app wsgi jobs run` runs the outbox, reminders, holds and purge.

Never started by the web workers: one runner process, and only one active at a time even
when several are started (a PostgreSQL advisory lock, or a file lock on SQLite). The others
stand by and take over when the active one dies, since its lock dies with it.

A runner outlives the database's blips: when it cannot reach the database it waits and
tries again (with a growing pause, up to a minute); when it loses its lock (the lock's
connection was cut) it stops its jobs and goes back to standby, like the others. It only
exits when asked to (SIGTERM, SIGINT).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import threading
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Connection, text

from booking import clock
from booking.domain.figures import PARIS
from booking.extensions import db
from booking.logs import log_failure
from booking.services.bookings.once import purge_submissions
from booking.services.challenge import purge_spent
from booking.services.health import heartbeat
from booking.services.messages.outbox import queue_reminders, release_expired_holds, send_outbox
from booking.services.privacy import purge_personal_data
from booking.services.statistics import refresh_figures
from booking.services.statistics.delays import MEASURE_HOUR, measure_delays, measure_if_missed
from booking.services.units.settings import promote_scheduled_hours
from booking.services.waitlist.offers import offer_freed_slots

log = logging.getLogger(__name__)

RUNNER_LOCK_KEY = 7_310_042_017  # any constant shared by every runner of the database
MAX_PAUSE_SECONDS = 60.0  # the longest wait between two attempts to reach the database
STEP_BACK_ROUNDS = 3  # polls a runner that lost its lock waits before trying again


class RunnerLock:
    """Held by the one active runner: a session advisory lock, or an flock on SQLite."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.connection: Connection | None = None
        self.file: IO[str] | None = None

    def acquire(self) -> bool:
        """Try once; True when this process is now the active runner. Raises when the
        database cannot be reached."""
        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name == "postgresql":
            connection = engine.connect()
            try:
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": RUNNER_LOCK_KEY}
                ).scalar()
                connection.commit()
            except Exception:
                connection.close()
                raise
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

    def release(self) -> None:
        """Let the lock go (closing a dead connection may fail: it is gone anyway)."""
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None
        if self.file is not None:
            self.file.close()
            self.file = None


def run(app: Flask) -> None:
    """Stand by until this runner is the active one, run the jobs while it is, and stand by
    again whenever it is not; until stopped."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    poll = float(app.config["JOBS_POLL_SECONDS"])
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        stopping.set()

    # One line a run of every job would drown the log; the jobs log what they do.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause, announced = poll, False
    while not stopping.is_set():
        lock = RunnerLock(app)
        try:
            leading = lock.acquire()
        except Exception as error:  # any failure: the database is out of reach for now
            cause = type(error).__name__
            log.warning("job runner %s cannot reach the database (%s)", holder, cause)
            stopping.wait(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
            continue
        pause = poll
        if not leading:
            if not announced:
                log.info("another job runner holds the lead; %s stands by", holder)
                announced = True
            stopping.wait(poll)
            continue
        log.info("job runner %s takes the lead", holder)
        _lead(app, lock, holder, stopping)
        lock.release()
        if not stopping.is_set():
            log.warning("job runner %s lost its lock; it stands by again", holder)
            announced = False
            # Step back a few rounds: a runner on a healthier connection takes the lead.
            stopping.wait(STEP_BACK_ROUNDS * poll)
    log.info("job runner %s stops", holder)


def _lead(app: Flask, lock: RunnerLock, holder: str, stopping: threading.Event) -> None:
    """Run the jobs until asked to stop or until the lock is lost."""
    poll = float(app.config["JOBS_POLL_SECONDS"])
    scheduler = BlockingScheduler(timezone="UTC")

    def in_context(job: Any, *args: Any) -> None:
        with app.app_context():
            try:
                job(*args)
            except Exception as error:  # any failure: logged scrubbed, the next run retries
                log_failure(log, "job %s failed", error, job.__name__)
            finally:
                db.session.remove()

    def watch() -> None:
        if stopping.is_set() or not lock.still_held():
            scheduler.shutdown(wait=False)

    options = {"coalesce": True, "max_instances": 1, "next_run_time": clock.now()}
    scheduler.add_job(in_context, "interval", args=[heartbeat, holder], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[send_outbox], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[release_expired_holds], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[offer_freed_slots], seconds=poll, **options)
    scheduler.add_job(in_context, "interval", args=[queue_reminders], seconds=60, **options)
    # Hours set from a date become the hours in force: checked every few minutes, so that a
    # unit page and the open data show them from the first minutes of that date.
    scheduler.add_job(in_context, "interval", args=[promote_scheduled_hours], minutes=5, **options)
    scheduler.add_job(in_context, "interval", args=[purge_spent], hours=1, **options)
    scheduler.add_job(in_context, "interval", args=[purge_personal_data], hours=1, **options)
    scheduler.add_job(in_context, "interval", args=[purge_submissions], hours=1, **options)
    # Public statistics (SPEC §14): figures every five minutes; the delay to the first slot
    # every morning at 06:00 Paris time, and at once if this morning's was missed.
    scheduler.add_job(in_context, "interval", args=[refresh_figures], minutes=5, **options)
    scheduler.add_job(in_context, "date", args=[measure_if_missed], run_date=clock.now())
    scheduler.add_job(
        in_context,
        "cron",
        args=[measure_delays],
        hour=MEASURE_HOUR,
        minute=0,
        timezone=PARIS,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    scheduler.add_job(watch, "interval", seconds=min(poll, 1.0), **options)
    scheduler.start()

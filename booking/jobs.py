"""Background jobs (outbox, reminders) and their runner: `flask --app wsgi jobs run`.

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
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from sqlalchemy import Connection, select, text

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.mail import deliver, mark_failed
from booking.metrics import EMAILS
from booking.models import Booking, BookingStatus, OutboxMessage, RunnerHeartbeat
from booking.services import notifications
from booking.services.bookings import expire_holds, link_token
from booking.services.privacy import purge_personal_data

log = logging.getLogger(__name__)

RUNNER_LOCK_KEY = 7_310_042_017  # any constant shared by every runner of the database
MAX_ATTEMPTS = 20  # with the backoff capped at an hour: about fifteen hours of trying
OUTBOX_BATCH = 50


def send_outbox(now: datetime | None = None) -> int:
    """Send the due messages, one commit each; return how many left. Never holds a lock."""
    now = now or clock.now()
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dropped_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(OUTBOX_BATCH)
    ).all()
    db.session.rollback()
    sent = 0
    for entry_id in due:
        entry = db.session.get(OutboxMessage, entry_id)
        if entry is None or entry.sent_at or entry.dropped_at:
            continue
        stale = _stale_reminder(entry, max(now, clock.now()))
        if stale:
            _finish(entry_id, dropped=now, error=stale)
            continue
        try:
            deliver(entry)
        except Exception as error:  # noqa: BLE001  (one bad message must not hold the others)
            log.warning("email %s (%s) not sent: %s", entry_id, entry.kind, error)
            _finish(entry_id, failure=error, now=now)
            EMAILS.labels("failed").inc()
            continue
        _finish(entry_id, sent=now)
        EMAILS.labels("sent").inc()
        sent += 1
    return sent


def _stale_reminder(entry: OutboxMessage, now: datetime) -> str:
    """Why a queued reminder must not leave any more (its appointment started or ended)."""
    if entry.kind != "reminder" or entry.booking_id is None:
        return ""
    booking = db.session.get(Booking, entry.booking_id)
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return "rendez-vous annulé avant l'envoi du rappel"
    if booking.starts_at <= now:
        return "rendez-vous commencé avant l'envoi du rappel"
    if booking.updated_at > entry.created_at:
        return "rendez-vous modifié depuis : un nouveau rappel suivra"
    return ""


def _finish(
    entry_id: int,
    *,
    sent: datetime | None = None,
    dropped: datetime | None = None,
    error: str = "",
    failure: Exception | None = None,
    now: datetime | None = None,
) -> None:
    """Record the outcome of one message in a short write transaction."""
    db.session.rollback()
    begin_write()
    entry = db.session.get(OutboxMessage, entry_id)
    if entry is None:
        return
    if sent:
        entry.sent_at = sent
    if dropped:
        entry.dropped_at, entry.last_error = dropped, error
    if failure is not None and now is not None:
        mark_failed(entry, failure, now)
        if entry.attempts >= MAX_ATTEMPTS:
            entry.dropped_at = now
            log.error("email %s dropped after %s attempts", entry_id, entry.attempts)
    db.session.commit()


def queue_reminders(now: datetime | None = None) -> int:
    """Queue the reminder of each active booking entering its reminder window, once."""
    now = now or clock.now()
    window = timedelta(hours=current_app.config["BOOKING_REMINDER_HOURS"])
    candidates = db.session.execute(
        select(Booking.id, Booking.created_at, Booking.starts_at).where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.reminder_sent_at.is_(None),
            Booking.starts_at > now,
            Booking.starts_at <= now + window,
        )
    ).all()
    # Booked inside the window: the confirmation has just said it all.
    due = [row.id for row in candidates if row.created_at <= row.starts_at - window]
    db.session.rollback()
    for booking_id in due:
        begin_write()
        booking = db.session.get(Booking, booking_id)
        if booking and booking.reminder_sent_at is None and booking.starts_at > now:
            notifications.reminder(booking, link_token(booking.ics_uid))
            booking.reminder_sent_at = now
        db.session.commit()
    return len(due)


def release_expired_holds(now: datetime | None = None) -> int:
    """Free the slots of holds nobody confirmed in time (email-verification mode)."""
    begin_write()
    released = expire_holds(now or clock.now())
    db.session.commit()
    return released


def heartbeat(holder: str, now: datetime | None = None) -> None:
    """Say that the active runner is alive (read by /readyz)."""
    now = now or clock.now()
    begin_write()
    beat = db.session.get(RunnerHeartbeat, "jobs") or RunnerHeartbeat(name="jobs")
    beat.holder, beat.seen_at = holder, now
    db.session.add(beat)
    db.session.commit()


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
        except Exception:  # noqa: BLE001  (any failure means the lock may be gone)
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

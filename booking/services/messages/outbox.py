"""The outbox's use cases, run by the job runner: send what is due, queue reminders, free
holds nobody confirmed. Each message is recorded in a short transaction of its own; sending
never holds a lock."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.mail import deliver, mark_failed
from booking.metrics import EMAILS
from booking.models import Booking, BookingStatus, OutboxMessage
from booking.services.bookings.change import expire_holds, is_held
from booking.services.messages import notifications
from booking.services.units.reading import lock_unit_version

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20  # with the backoff capped at an hour: about fifteen hours of trying
OUTBOX_BATCH = 50


def send_outbox(now: datetime | None = None) -> int:
    """Send the due messages, one commit each; return how many left."""
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
            deliver(entry, notifications.message_of(entry))
        except Exception as error:  # any failure: one bad message must not hold the others
            # The error's type only: an SMTP refusal quotes the recipient's address.
            log.warning("email %s (%s) not sent: %s", entry_id, entry.kind, type(error).__name__)
            _finish(entry_id, failure=error, now=now)
            EMAILS.labels("failed").inc()
            continue
        _finish(entry_id, sent=now)
        EMAILS.labels("sent").inc()
        sent += 1
    return sent


def _stale_reminder(entry: OutboxMessage, now: datetime) -> str:
    """Why a queued reminder, or a hold's request to confirm, must not leave any more."""
    if entry.kind in {"offer", "verification"} and entry.booking_id is not None:
        held = db.session.get(Booking, entry.booking_id)
        if held is None or held.status != BookingStatus.PENDING:
            return "créneau libéré ou confirmé avant l'envoi"
        if not is_held(held, now):
            return "délai de confirmation passé avant l'envoi"
        return ""
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


def reminds(created_at: datetime, starts_at: datetime) -> bool:
    """Whether a booking made at `created_at` gets a reminder: not when booked inside the
    reminder window (the confirmation has just said it all). What the confirmation page
    promises, and what `queue_reminders` does."""
    window = timedelta(hours=current_app.config["BOOKING_REMINDER_HOURS"])
    return created_at <= starts_at - window


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
    due = [row.id for row in candidates if reminds(row.created_at, row.starts_at)]
    db.session.rollback()
    for booking_id in due:
        begin_write()
        booking = db.session.get(Booking, booking_id)
        if booking and booking.reminder_sent_at is None and booking.starts_at > now:
            notifications.reminder(booking)
            booking.reminder_sent_at = now
        db.session.commit()
    return len(due)


def release_expired_holds(now: datetime | None = None) -> int:
    """Free the slots of holds nobody confirmed in time (email-verification mode), one unit
    at a time under its lock, as every write to a unit's bookings is made."""
    now = now or clock.now()
    expired = select(Booking.unit_id).where(
        Booking.status == BookingStatus.PENDING, Booking.hold_expires_at <= now
    )
    released = 0
    for unit_id in db.session.scalars(expired.distinct()).all():
        begin_write()
        lock_unit_version(unit_id)
        released += expire_holds(now, unit_id)
        db.session.commit()
    return released

"""Personal data is kept only as long as needed: a booking's details, its emails (in the
outbox, and the .eml files written when no SMTP server is set) and the reason its unit gave
for cancelling it, PERSONAL_DATA_RETENTION_DAYS after it; the audit log, which names
agents and references, AUDIT_RETENTION_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, or_, select, update

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.models import AuditEntry, Booking, OutboxMessage
from booking.services.waitlist.entries import purge_entries


def purge_personal_data(now: datetime | None = None) -> int:
    """Erase the citizen's details of bookings that ended long enough ago; return how many.

    The booking rows stay (unit, reason, time, status) for anonymous counts; the emails that
    were sent about them, which hold the same details, are deleted.
    """
    now = now or clock.now()
    cutoff = now - timedelta(days=current_app.config["PERSONAL_DATA_RETENTION_DAYS"])
    begin_write()
    expired = select(Booking.id).where(Booking.ends_at < cutoff, Booking.anonymised_at.is_(None))
    ids = list(db.session.scalars(expired))
    if ids:
        db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.booking_id.in_(ids),
                or_(OutboxMessage.sent_at.is_not(None), OutboxMessage.dropped_at.is_not(None)),
            )
        )
        db.session.execute(
            update(Booking)
            .where(Booking.id.in_(ids))
            .values(
                name="",
                email="",
                email_key="",
                phone="",
                comment="",
                pre_declaration="",
                cancel_reason="",  # typed by an agent: it may name the person
                video_room="",  # a past appointment's room opens nothing any more
                anonymised_at=now,
            )
        )
    purge_entries(cutoff, now)
    audit_cutoff = now - timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    db.session.execute(delete(AuditEntry).where(AuditEntry.at < audit_cutoff))
    db.session.commit()
    _purge_email_files(cutoff)
    return len(ids)


def _purge_email_files(cutoff: datetime) -> int:
    """The .eml files written without an SMTP server (they hold names and manage links),
    deleted once as old as the personal data the database erases."""
    folder = Path(current_app.instance_path) / "emails"
    if not folder.is_dir():
        return 0
    limit, removed = cutoff.timestamp(), 0
    for path in folder.glob("*.eml"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed

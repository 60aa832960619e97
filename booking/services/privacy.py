"""Personal data is kept only as long as needed (PERSONAL_DATA_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.models import Booking, OutboxMessage
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
                anonymised_at=now,
            )
        )
    purge_entries(cutoff, now)
    db.session.commit()
    return len(ids)

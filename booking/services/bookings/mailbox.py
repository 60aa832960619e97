"""The per-mailbox limit (SPEC §3: at most BOOKING_MAX_ACTIVE_PER_EMAIL upcoming active
bookings), checked whenever a booking becomes confirmed (made at once, or a hold confirmed),
under a lock on the mailbox so that two bookings of one mailbox at two units cannot both
pass it.

Who is told the limit is reached depends on who asks (SPEC §5): a partner service with an
API key, or a booking confirmed at once (email verification off), is answered 409
`limit_reached`; an anonymous online booking is answered as any other (a hold to confirm
from the email), and the limit is told to the mailbox's owner in that email, then checked
again when the hold is confirmed. A stranger typing someone's address learns nothing.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, func, select, text

from booking.database import run
from booking.domain.words import Text
from booking.errors import LimitReached
from booking.extensions import db
from booking.models import Booking, BookingStatus, UTCDateTime

MAILBOX_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")

_row = Booking.__table__.c
# Upcoming confirmed bookings ("active", SPEC §3): a hold counts for nothing until confirmed
# (one made by a stranger with someone's address would otherwise fill it), and is counted
# against the limit when it is.
_CONFIRMED = select(func.count(_row.id)).where(
    _row.email_key == bindparam("key"),
    _row.status == BookingStatus.CONFIRMED.value,
    _row.ends_at > bindparam("now", type_=UTCDateTime()),
)


def lock_mailbox(key: str) -> None:
    """Serialise the bookings of one mailbox across units, until the transaction ends
    (PostgreSQL; SQLite has a single writer anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        run(MAILBOX_LOCK, {"key": key})


def limit() -> int:
    """How many upcoming bookings a mailbox may hold."""
    return int(current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"])


def is_full(key: str, now: datetime) -> bool:
    """Whether the mailbox (locked by the caller) already holds as many upcoming confirmed
    bookings as allowed."""
    return (run(_CONFIRMED, {"key": key, "now": now}).scalar() or 0) >= limit()


def check_limit(key: str, now: datetime) -> None:
    """LimitReached when the mailbox is full (a booking without an address has no mailbox
    to count). Only for an answer that goes to the mailbox's owner or to a partner."""
    if not key:
        return
    lock_mailbox(key)
    if is_full(key, now):
        raise LimitReached(limit_message())


def limit_message() -> str:
    """What the owner of a full mailbox is told (a `Text`: said in their language)."""
    return Text(
        "Cette adresse a déjà %(count)s rendez-vous à venir : annulez-en un pour en prendre"
        " un autre.",
        count=limit(),
    )

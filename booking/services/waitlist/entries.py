"""A waiting-list entry after joining: its link, confirming the address, leaving, what the
unit's staff see, and the purge of entries that ended. Leaving is one POST from the
entry's page (its link is in every email); it withdraws the open offer, and the slot is
offered to the next person."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update

from booking import clock
from booking.database import begin_write, fresh
from booking.errors import WrongLink
from booking.extensions import db
from booking.keys import purpose_key
from booking.metrics import WAITLIST
from booking.models import (
    Booking,
    BookingStatus,
    EntryStatus,
    OfferStatus,
    OutboxMessage,
    Unit,
    WaitlistEntry,
    WaitlistOffer,
    waitlist_units,
)
from booking.services.slots.cache import touching
from booking.tokens import same_hash, waitlist_token

OPEN = (EntryStatus.UNCONFIRMED, EntryStatus.WAITING)


OPEN = (EntryStatus.UNCONFIRMED, EntryStatus.WAITING)


def find_entry(
    reference: str, token: str, lock: bool = False, leaving: bool = False
) -> WaitlistEntry:
    """The entry of a link; WrongLink for any wrong part (they answer alike). With `lock`,
    its row is locked until commit (an offer being made for it waits, then sees the change).
    With `leaving`, the secret of the link that only leaves (`leave_token`) opens it too."""
    query = select(WaitlistEntry).where(WaitlistEntry.reference == reference.strip().upper()[:12])
    entry: WaitlistEntry | None = db.session.scalar(
        fresh(query.with_for_update()) if lock else query
    )
    if entry is None or not token:
        raise WrongLink()
    if not same_hash(entry.token_hash, token) and not (leaving and is_leave_token(entry, token)):
        raise WrongLink()
    return entry


def leave_token(reference: str) -> str:
    """The secret of an entry's link that shows it and leaves the list, but cannot confirm
    the address: what an API request is answered (whoever typed the address must not be
    able to confirm it), derived again when needed."""
    return waitlist_token(f"leave:{reference}", purpose_key("waitlist"))


def is_leave_token(entry: WaitlistEntry, token: str) -> bool:
    """Whether `token` is the entry's leave-only secret."""
    return hmac.compare_digest(leave_token(entry.reference), token)


def confirm_entry(reference: str, token: str, now: datetime | None = None) -> WaitlistEntry:
    """The address is confirmed: the person now waits, from this moment (twice: no change)."""
    now = now or clock.now()
    begin_write()
    entry = find_entry(reference, token)
    if entry.status == EntryStatus.UNCONFIRMED:
        entry.status, entry.confirmed_at, entry.updated_at = EntryStatus.WAITING, now, now
        WAITLIST.labels("joined").inc()
    db.session.commit()
    return entry


def leave(reference: str, token: str, now: datetime | None = None) -> WaitlistEntry:
    """Leave the list: no more offers; an open offer is withdrawn and its slot freed."""
    now = now or clock.now()
    begin_write()
    # Locks in the order the runner takes them (the open offer, its unit, then the entry),
    # so that leaving and offering queue on each other and never deadlock.
    entry_id = find_entry(reference, token, leaving=True).id
    offer = db.session.scalar(
        fresh(
            select(WaitlistOffer)
            .where(WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OfferStatus.OFFERED)
            .with_for_update()
        )
    )
    if offer is not None:
        db.session.execute(select(Unit.id).where(Unit.id == offer.unit_id).with_for_update())
    entry = find_entry(reference, token, lock=True, leaving=True)
    withdrawn = False
    if entry.status in OPEN:
        entry.status, entry.updated_at = EntryStatus.LEFT, now
        withdrawn = _withdraw_open_offer(entry.id, now)
    db.session.commit()
    if withdrawn:
        WAITLIST.labels(OfferStatus.WITHDRAWN).inc()
    return entry


def _withdraw_open_offer(entry_id: int, now: datetime) -> bool:
    """Withdraw an entry's open offer and free its hold (in the caller's transaction);
    whether there was one."""
    offer = db.session.scalar(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OfferStatus.OFFERED
        )
    )
    if offer is None:
        return False
    db.session.execute(select(Unit.id).where(Unit.id == offer.unit_id).with_for_update())
    offer.status, offer.closed_at = OfferStatus.WITHDRAWN, now
    db.session.execute(
        update(Booking)
        .where(Booking.id == offer.booking_id, Booking.status == BookingStatus.PENDING)
        .values(status=BookingStatus.CANCELLED_BY_CITIZEN, video_room="", updated_at=now)
    )
    touching(offer.unit_id)
    return True


def waiting_for(unit_id: int) -> int:
    """How many people wait for a slot at this unit (for its staff)."""
    return int(
        db.session.scalar(
            select(func.count(WaitlistEntry.id))
            .join(waitlist_units, waitlist_units.c.entry_id == WaitlistEntry.id)
            .where(waitlist_units.c.unit_id == unit_id, WaitlistEntry.status == EntryStatus.WAITING)
        )
        or 0
    )


def purge_entries(cutoff: datetime, now: datetime | None = None) -> int:
    """Delete the entries that ended: a day after, when they led to no booking (left, or
    ended without one), at `cutoff` otherwise (the booking keeps its own data until then);
    their offers go with them, and the waiting-list emails older than `cutoff`."""
    day_ago = (now or clock.now()) - timedelta(days=1)
    ended = select(WaitlistEntry.id).where(
        or_(
            and_(
                WaitlistEntry.status.in_((EntryStatus.LEFT, EntryStatus.EXPIRED)),
                WaitlistEntry.updated_at < day_ago,
            ),
            and_(WaitlistEntry.status == EntryStatus.BOOKED, WaitlistEntry.updated_at < cutoff),
        )
    )
    ids = list(db.session.scalars(ended))
    if ids:
        db.session.execute(delete(WaitlistOffer).where(WaitlistOffer.entry_id.in_(ids)))
        db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.id.in_(ids)))
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.booking_id.is_(None),
            OutboxMessage.created_at < cutoff,
            or_(OutboxMessage.sent_at.is_not(None), OutboxMessage.dropped_at.is_not(None)),
        )
    )
    return len(ids)

"""The offers of freed slots, made by the job runner (`offer_freed_slots`): entries in the
order they were confirmed, each the earliest matching slot its mailbox was never offered.

An offer is a booking in status `pending`, a hold (booking.domain.capacity): the
database's capacity rule keeps a seat to one hold, and a unique index keeps one open offer
per mailbox, however many runners or nodes try at once. Confirmed, the entry is done;
expired or declined, the slot goes to the next person on the following run, never back to
the same entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from booking import clock
from booking.database import begin_write
from booking.domain.capacity import ON_SITE
from booking.domain.holds import hold_until, is_night
from booking.domain.slots import Slot
from booking.errors import ServiceError, SlotUnavailable
from booking.extensions import db
from booking.metrics import WAITLIST
from booking.models import (
    Booking,
    BookingStatus,
    Channel,
    EntryStatus,
    OfferStatus,
    Reason,
    Unit,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.bookings.make import BookingDetails, Hold, insert_booking, prepare_booking
from booking.services.bookings.writes import commit_or_unavailable
from booking.services.slots.offered import unit_slots

NOON = 12 * 60
OPEN = (EntryStatus.UNCONFIRMED, EntryStatus.WAITING)


def offer_freed_slots(now: datetime | None = None) -> int:
    """The runner's job: close the offers that were answered or expired, end the entries
    whose last day passed, then offer each waiting person (first confirmed first) the
    earliest matching slot they were never offered; return how many offers were made."""
    now = now or clock.now()
    _close_answered_offers(now)
    _expire_entries(now)
    queue = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == EntryStatus.WAITING,
            ~select(WaitlistOffer.id)
            .where(
                WaitlistOffer.entry_id == WaitlistEntry.id,
                WaitlistOffer.status == OfferStatus.OFFERED,
            )
            .exists(),
        )
        .order_by(WaitlistEntry.confirmed_at, WaitlistEntry.id)
    ).all()
    db.session.commit()  # end the read: each offer is its own write
    made, slots = 0, SlotsOfRun(now)
    for entry in queue:
        made += _offer_one(entry, now, slots)
    return made


class SlotsOfRun:
    """The offered slots of each unit and reason, computed once per run (many people wait
    at the same unit for the same reason); forgotten for a unit where an offer was made."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.known: dict[tuple[int, str, str], list[Slot]] = {}

    def of(self, unit: Unit, reason: Reason, mode: str = ON_SITE) -> list[Slot]:
        """The unit's slots for the reason in a mode, over the whole horizon (none in a mode
        the reason no longer allows)."""
        key = (unit.id, reason.code, mode)
        if key not in self.known:
            try:
                self.known[key] = unit_slots(unit, reason, now=self.now, mode=mode).slots
            except ServiceError:  # a mode the reason no longer allows: none
                self.known[key] = []
        return self.known[key]

    def forget(self, unit_id: int) -> None:
        """A seat of this unit was just held."""
        self.known = {key: value for key, value in self.known.items() if key[0] != unit_id}


@dataclass(frozen=True)
class Wish:
    """What suits a waiting person: days of the week ("014"), parts of day ("am", "pm",
    "ampm"), the first and last days, the mode."""

    weekdays: str
    parts: str
    until: date
    since: date | None = None
    mode: str = ON_SITE

    @classmethod
    def of(cls, entry: WaitlistEntry) -> Wish:
        """An entry's wish."""
        return cls(entry.weekdays, entry.parts, entry.until, entry.since, entry.mode)


def matching(unit: Unit, reason: Reason, wish: Wish, slots: SlotsOfRun) -> list[datetime]:
    """The starts (UTC) of the unit's offered slots in the mode wished, on the days and
    parts of day that suit, from the first day to the last."""
    if not unit.active:
        return []
    zone, found = ZoneInfo(unit.timezone), []
    weekdays, parts = wish.weekdays, wish.parts
    for slot in slots.of(unit, reason, wish.mode):
        local = slot.start.astimezone(zone)
        if local.date() > wish.until:
            break
        if wish.since is not None and local.date() < wish.since:
            continue
        part = "am" if local.hour * 60 + local.minute < NOON else "pm"
        if str(local.weekday()) in weekdays and part in parts:
            found.append(slot.start.astimezone(UTC))
    return found


def _offer_one(entry: WaitlistEntry, now: datetime, slots: SlotsOfRun) -> int:
    """Offer this entry the earliest matching slot its mailbox was never offered; 1 if one
    was."""
    reason = db.session.get(Reason, entry.reason_code)
    if reason is None or not reason.active:
        return 0
    # Per mailbox, not per entry: alice@ and alice+2@ are one person, offered one slot at a
    # time (the index on offers.email_key says so too), and never the same slot twice.
    offered = {
        (unit_id, start)
        for unit_id, start in db.session.execute(
            select(WaitlistOffer.unit_id, WaitlistOffer.starts_at).where(
                WaitlistOffer.email_key == entry.email_key
            )
        )
    }
    candidates = sorted(
        (start, unit.id, unit)
        for unit in entry.units
        for start in matching(unit, reason, Wish.of(entry), slots)
        if (unit.id, start) not in offered
    )
    minutes = current_app.config["WAITLIST_OFFER_MINUTES"]
    for start, _, unit in candidates:
        details = BookingDetails(
            start=start.isoformat(),
            name=entry.name,
            email=entry.email,
            phone=entry.phone,
            mode=entry.mode,
            channel=Channel.WAITLIST,
            language=entry.language,
        )
        zone = ZoneInfo(unit.timezone)
        hold = Hold(hold_until(now, zone, minutes), "offer", entry.reference)
        try:
            prepared = prepare_booking(unit, reason, details, now, hold)
            begin_write()
            booking = insert_booking(unit, reason, prepared, now)
            _record_offer(entry, booking, unit_id=unit.id, now=now, night=is_night(now, zone))
            commit_or_unavailable()
        except SlotUnavailable:
            db.session.rollback()  # taken meanwhile: the next slot
            slots.forget(unit.id)
            continue
        except (IntegrityError, ServiceError):
            # Another runner offered this mailbox first, the entry was left meanwhile, or
            # the person holds as many bookings as allowed: not now.
            db.session.rollback()
            return 0
        WAITLIST.labels("offered").inc()
        slots.forget(unit.id)
        return 1
    return 0


class EntryGone(ServiceError):
    """The entry stopped waiting while an offer was being made for it."""


def _record_offer(
    entry: WaitlistEntry, booking: Booking, *, unit_id: int, now: datetime, night: bool
) -> None:
    """The offer's row, in the hold's transaction, if the entry still waits (checked under
    its row's lock: leaving and offering queue on it). The unique index refuses a second
    open offer for the same mailbox."""
    still = db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == EntryStatus.WAITING)
        .values(updated_at=now)
    )
    if not getattr(still, "rowcount", 0):
        raise EntryGone()
    db.session.add(
        WaitlistOffer(
            entry_id=entry.id,
            email_key=entry.email_key,
            booking_id=booking.id,
            unit_id=unit_id,
            starts_at=booking.starts_at,
            status=OfferStatus.OFFERED,
            night=night,
            created_at=now,
        )
    )
    db.session.flush()


UNANSWERED_MAX = 2  # offers let expire before an entry ends: no endless emails and holds


def _close_answered_offers(now: datetime) -> None:
    """Offers whose hold was confirmed (the entry is done), declined (it waits on), or let
    expire (it waits on, for other slots, until UNANSWERED_MAX of them)."""
    begin_write()
    rows = db.session.execute(
        select(WaitlistOffer.id, WaitlistOffer.entry_id, Booking.status)
        .join(Booking, Booking.id == WaitlistOffer.booking_id)
        .where(WaitlistOffer.status == OfferStatus.OFFERED, Booking.status != BookingStatus.PENDING)
    ).all()
    closed: list[str] = []
    for offer_id, entry_id, status in rows:
        accepted = status in (BookingStatus.CONFIRMED, BookingStatus.HONOURED)
        outcome = OfferStatus.ACCEPTED if accepted else OfferStatus.EXPIRED
        if status == BookingStatus.CANCELLED_BY_CITIZEN:
            outcome = OfferStatus.WITHDRAWN
        changed = db.session.execute(
            update(WaitlistOffer)
            .where(WaitlistOffer.id == offer_id, WaitlistOffer.status == OfferStatus.OFFERED)
            .values(status=outcome, closed_at=now)
        )
        if not getattr(changed, "rowcount", 0):
            continue  # closed by a run at the same time
        closed.append(outcome)
        unanswered = db.session.scalar(  # offers made at night do not count
            select(func.count(WaitlistOffer.id)).where(
                WaitlistOffer.entry_id == entry_id,
                WaitlistOffer.status == OfferStatus.EXPIRED,
                WaitlistOffer.night.is_(False),
            )
        )
        ended = EntryStatus.BOOKED if accepted else None
        if not accepted and (unanswered or 0) >= UNANSWERED_MAX:
            ended = EntryStatus.EXPIRED
        if ended:
            db.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.id == entry_id, WaitlistEntry.status.in_(OPEN))
                .values(status=ended, updated_at=now)
            )
    db.session.commit()
    for event in closed:  # counted once committed
        WAITLIST.labels(event).inc()


def _expire_entries(now: datetime) -> None:
    """Entries whose last day has passed end; requests unconfirmed for a day are deleted
    (nothing of them is kept)."""
    today = now.astimezone(ZoneInfo("Europe/Paris")).date()
    begin_write()
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.status == EntryStatus.WAITING, WaitlistEntry.until < today)
        .values(status=EntryStatus.EXPIRED, updated_at=now)
    )
    db.session.execute(
        delete(WaitlistEntry).where(
            WaitlistEntry.status == EntryStatus.UNCONFIRMED,
            or_(WaitlistEntry.created_at < now - timedelta(days=1), WaitlistEntry.until < today),
        )
    )
    db.session.commit()

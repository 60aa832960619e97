"""The waiting list (SPEC §11): a citizen who finds no slot that suits leaves an email, the
reason, the units, the days and parts of day that suit; a matching slot that frees is
offered to the first person waiting, as a hold of WAITLIST_OFFER_MINUTES in their name.

- Joining takes a confirmation from the email (an address nobody confirmed is never offered
  a slot: slots are not held for addresses typed by someone else, or made up by a script).
  The answer to a join is the same whether the address can join or not: nobody learns who
  waits. An address waits in WAITLIST_MAX_PER_EMAIL entries at most (counted per mailbox).
- The job runner offers (`offer_freed_slots`): entries in the order they were confirmed,
  each the earliest matching slot it was never offered. An offer is a booking in status
  `pending` (the holds of email verification): the desk rule of the database keeps a seat
  to one hold, and a unique index keeps one open offer per entry, however many runners or
  nodes try at once. Confirmed, the entry is done; expired or declined, the slot goes to
  the next person on the following run, never back to the same entry.
- Leaving is one POST from the entry's page (its link is in every email); it withdraws the
  open offer, and the slot is offered to the next.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from booking import clock
from booking.database import begin_write, fresh
from booking.domain.slots import Slot
from booking.errors import Conflict, Invalid, ServiceError, SlotUnavailable, WrongLink
from booking.extensions import db
from booking.metrics import WAITLIST
from booking.models import (
    Booking,
    BookingStatus,
    EntryStatus,
    OfferStatus,
    OutboxMessage,
    Reason,
    Unit,
    WaitlistEntry,
    WaitlistOffer,
    waitlist_units,
)
from booking.services.bookings.contact import mailbox_key, validate_contact
from booking.services.bookings.make import MAILBOX_LOCK, BookingDetails, Hold, book
from booking.services.messages import notifications
from booking.services.places.nearby import nearest
from booking.services.slots.cache import touching
from booking.services.slots.offered import booking_window, unit_slots
from booking.tokens import hash_token, link_token, same_hash

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
UNITS_MAX = 5
PARTS = {"am": "le matin", "pm": "l'après-midi"}
NOON = 12 * 60
OPEN = (EntryStatus.UNCONFIRMED, EntryStatus.WAITING)


@dataclass(frozen=True)
class WaitRequest:
    """What a citizen asks for, as typed."""

    name: str
    email: str
    units: list[str]  # public identifiers
    weekdays: list[str]  # "0" (Monday) … "6"
    parts: list[str]  # "am", "pm"
    until: str = ""  # AAAA-MM-JJ; the horizon's last day when empty


class SlotsFree(Conflict):
    """Slots that suit are free now: book one rather than wait."""

    code = "slots_free"
    default_message = (
        "Des créneaux qui vous conviennent sont libres en ce moment : réservez-en un"
        " directement. La liste d'attente sert quand aucun ne convient."
    )


def entry_token(reference: str) -> str:
    """The secret of an entry's links, derived again whenever needed (only its hash is
    stored)."""
    return link_token(f"waitlist:{reference}", current_app.config["SECRET_KEY"])


def join(reason: Reason, asked: WaitRequest, now: datetime | None = None) -> None:
    """Put a person on the list, unconfirmed, and send the confirmation email; Invalid names
    each wrong field. Over the cap, the email says so instead (the page says the same)."""
    now = now or clock.now()
    units = _units(asked.units)
    first = units[0] if units else None
    errors: dict[str, str] = {}
    try:
        contact = validate_contact(
            asked.name, asked.email, "", "", first.department if first else ""
        )
    except Invalid as error:
        errors.update(error.fields)
    if not units:
        errors["unites"] = "Choisissez au moins une unité."
    weekdays = "".join(sorted({d for d in asked.weekdays if d in "0123456" and len(d) == 1}))
    if not weekdays:
        errors["jours"] = "Choisissez au moins un jour de la semaine."
    parts = "".join(p for p in PARTS if p in asked.parts)
    if not parts:
        errors["moments"] = "Choisissez le matin, l'après-midi, ou les deux."
    until = _until(asked.until, first, now, errors)
    if errors:
        raise Invalid(fields=errors)
    if any(_matching(unit, reason, weekdays, parts, until, SlotsOfRun(now)) for unit in units):
        raise SlotsFree()
    key = mailbox_key(contact.email)
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(MAILBOX_LOCK, {"key": f"waitlist:{key}"})
    # The latest request of a mailbox replaces the one it did not confirm; only confirmed
    # entries count towards the cap (nobody can fill another's cap by typing their address).
    db.session.execute(
        delete(WaitlistEntry).where(
            WaitlistEntry.email_key == key, WaitlistEntry.status == EntryStatus.UNCONFIRMED
        )
    )
    count = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.email_key == key, WaitlistEntry.status == EntryStatus.WAITING
        )
    )
    if (count or 0) >= current_app.config["WAITLIST_MAX_PER_EMAIL"]:
        notifications.waitlist_full(contact.name, contact.email)
        db.session.commit()
        return
    reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    entry = WaitlistEntry(
        reference=reference,
        reason_code=reason.code,
        name=contact.name,
        email=contact.email,
        email_key=key,
        weekdays=weekdays,
        parts=parts,
        until=until,
        status=EntryStatus.UNCONFIRMED,
        token_hash=hash_token(entry_token(reference)),
        created_at=now,
        updated_at=now,
    )
    entry.units = units
    db.session.add(entry)
    db.session.flush()
    notifications.waitlist_confirm(entry, reason)
    db.session.commit()


def _units(public_ids: Iterable[str]) -> list[Unit]:
    """The active units asked for (at most UNITS_MAX), in the order asked."""
    wanted = list(dict.fromkeys(p for p in public_ids if p))[:UNITS_MAX]
    if not wanted:
        return []
    found = {
        unit.public_id: unit
        for unit in db.session.scalars(
            select(Unit).where(Unit.public_id.in_(wanted), Unit.active.is_(True))
        )
    }
    return [found[p] for p in wanted if p in found]


def _until(text: str, unit: Unit | None, now: datetime, errors: dict[str, str]) -> date:
    """The last day that suits: by default, and at most, the horizon's last day."""
    zone = ZoneInfo(unit.timezone) if unit else ZoneInfo("Europe/Paris")
    today = now.astimezone(zone).date()
    horizon = today + timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"] - 1)
    if unit is not None:
        today, horizon = booking_window(unit, now)
    if not text.strip():
        return horizon
    try:
        until = date.fromisoformat(text.strip())
    except ValueError:
        errors["jusqu_au"] = "Date invalide (exemple : 2026-12-24)."
        return horizon
    if until < today:
        errors["jusqu_au"] = "Choisissez une date à venir."
    return min(until, horizon)


def find_entry(reference: str, token: str, lock: bool = False) -> WaitlistEntry:
    """The entry of a link; WrongLink for any wrong part (they answer alike). With `lock`,
    its row is locked until commit (an offer being made for it waits, then sees the change)."""
    query = select(WaitlistEntry).where(WaitlistEntry.reference == reference.strip().upper()[:12])
    entry: WaitlistEntry | None = db.session.scalar(
        fresh(query.with_for_update()) if lock else query
    )
    if entry is None or not token or not same_hash(entry.token_hash, token):
        raise WrongLink()
    return entry


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
    entry_id = find_entry(reference, token).id
    offer = db.session.scalar(
        fresh(
            select(WaitlistOffer)
            .where(WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OfferStatus.OFFERED)
            .with_for_update()
        )
    )
    if offer is not None:
        db.session.execute(select(Unit.id).where(Unit.id == offer.unit_id).with_for_update())
    entry = find_entry(reference, token, lock=True)
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
        .values(status=BookingStatus.CANCELLED_BY_CITIZEN, updated_at=now)
    )
    touching(offer.unit_id)
    return True


def nearby_units(unit: Unit, count: int = UNITS_MAX - 1) -> list[Unit]:
    """The active units nearest to this one (to wait at several at once)."""
    if unit.latitude is None or unit.longitude is None:
        return []
    ids = [i for i, _ in nearest((unit.latitude, unit.longitude), count + 1)[0] if i != unit.id]
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids[:count] if i in found]


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
        self.known: dict[tuple[int, str], list[Slot]] = {}

    def of(self, unit: Unit, reason: Reason) -> list[Slot]:
        """The unit's slots for the reason, over the whole horizon."""
        key = (unit.id, reason.code)
        if key not in self.known:
            self.known[key] = unit_slots(unit, reason, now=self.now).slots
        return self.known[key]

    def forget(self, unit_id: int) -> None:
        """A seat of this unit was just held."""
        self.known = {key: value for key, value in self.known.items() if key[0] != unit_id}


def _matching(
    unit: Unit, reason: Reason, weekdays: str, parts: str, until: date, slots: SlotsOfRun
) -> list[datetime]:
    """The starts (UTC) of the unit's offered slots on the days and parts of day that suit,
    up to the last day."""
    if not unit.active:
        return []
    zone, found = ZoneInfo(unit.timezone), []
    for slot in slots.of(unit, reason):
        local = slot.start.astimezone(zone)
        if local.date() > until:
            break
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
        for start in _matching(unit, reason, entry.weekdays, entry.parts, entry.until, slots)
        if (unit.id, start) not in offered
    )
    for start, _, unit in candidates:
        details = BookingDetails(start=start.isoformat(), name=entry.name, email=entry.email)
        hold = Hold(
            minutes=current_app.config["WAITLIST_OFFER_MINUTES"],
            notice="offer",
            also=partial(_record_offer, entry, unit_id=unit.id, now=now),
            waitlist=entry.reference,
        )
        try:
            book(unit, reason, details, now, hold=hold)
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


def _record_offer(entry: WaitlistEntry, booking: Booking, *, unit_id: int, now: datetime) -> None:
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
        unanswered = db.session.scalar(
            select(func.count(WaitlistOffer.id)).where(
                WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OfferStatus.EXPIRED
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

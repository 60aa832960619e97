"""Joining the waiting list: a citizen who finds no slot that suits leaves an email, the
reason, the units, the days and parts of day that suit.

Joining takes a confirmation from the email (an address nobody confirmed is never offered
a slot: slots are not held for addresses typed by someone else, or made up by a script).
The answer to a join is the same whether the address can join or not: nobody learns who
waits. An address waits in WAITLIST_MAX_PER_EMAIL entries at most (counted per mailbox).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, func, select

from booking import clock
from booking.database import begin_write
from booking.errors import Conflict, Invalid
from booking.extensions import db
from booking.keys import purpose_key
from booking.models import EntryStatus, Reason, Unit, WaitlistEntry
from booking.services.bookings.contact import Contact, mailbox_key, validate_contact
from booking.services.bookings.mailbox import MAILBOX_LOCK
from booking.services.messages import waitlist_notices
from booking.services.places.nearby import nearest, unit_point
from booking.services.slots.offered import booking_window
from booking.services.waitlist.offers import SlotsOfRun, matching
from booking.tokens import hash_token, waitlist_token

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
UNITS_MAX = 5
PARTS = {"am": "le matin", "pm": "l'après-midi"}


@dataclass(frozen=True)
class WaitRequest:
    """What a citizen asks for (the form, or a partner's request, has parsed it)."""

    name: str
    email: str
    units: Sequence[str]  # public identifiers, in the order the person prefers them
    weekdays: frozenset[int]  # 0 (Monday) … 6
    parts: frozenset[str]  # "am", "pm"
    until: date | None = None  # the horizon's last day when None


@dataclass(frozen=True)
class _Checked:
    """A request found right: who, where, when."""

    contact: Contact
    units: list[Unit]
    weekdays: str  # "014": Monday, Tuesday, Friday
    parts: str  # "am", "pm" or "ampm"
    until: date


class SlotsFree(Conflict):
    """Slots that suit are free now: book one rather than wait."""

    code = "slots_free"
    default_message = (
        "Des créneaux qui vous conviennent sont libres en ce moment : réservez-en un"
        " directement. La liste d'attente sert quand aucun ne convient."
    )


def join(reason: Reason, asked: WaitRequest, now: datetime | None = None) -> None:
    """Put a person on the list, unconfirmed, and send the confirmation email; Invalid names
    each wrong field (`name`, `email`, `units`, `weekdays`, `parts`, `until`), SlotsFree
    says to book instead. Over the cap, the email says so instead (the page says the
    same)."""
    now = now or clock.now()
    checked = _check(asked, now)
    units, weekdays, parts, until = checked.units, checked.weekdays, checked.parts, checked.until
    if any(matching(unit, reason, weekdays, parts, until, SlotsOfRun(now)) for unit in units):
        raise SlotsFree()
    _write_entry(reason, checked, now)


def _check(asked: WaitRequest, now: datetime) -> _Checked:
    """The request checked: one Invalid names every wrong field."""
    units = _units(asked.units)
    first = units[0] if units else None
    errors: dict[str, str] = {}
    contact = None
    try:
        contact = validate_contact(
            asked.name, asked.email, "", "", first.department if first else ""
        )
    except Invalid as error:
        errors.update(error.fields)
    if not units:
        errors["units"] = "Choisissez au moins une unité."
    weekdays = "".join(str(day) for day in sorted(asked.weekdays) if 0 <= day <= 6)
    if not weekdays:
        errors["weekdays"] = "Choisissez au moins un jour de la semaine."
    parts = "".join(part for part in PARTS if part in asked.parts)
    if not parts:
        errors["parts"] = "Choisissez le matin, l'après-midi, ou les deux."
    today, horizon = _window(first, now)
    if asked.until is not None and asked.until < today:
        errors["until"] = "Choisissez une date à venir."
    if contact is None or errors:
        raise Invalid(fields=errors)
    until = min(asked.until or horizon, horizon)
    return _Checked(contact, units, weekdays, parts, until)


def _write_entry(reason: Reason, checked: _Checked, now: datetime) -> None:
    """The entry, unconfirmed, and the email to confirm it; or, over the cap, the email
    that says so."""
    contact = checked.contact
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
        waitlist_notices.waitlist_full(contact.name, contact.email)
        db.session.commit()
        return
    reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    entry = WaitlistEntry(
        reference=reference,
        reason_code=reason.code,
        name=contact.name,
        email=contact.email,
        email_key=key,
        weekdays=checked.weekdays,
        parts=checked.parts,
        until=checked.until,
        status=EntryStatus.UNCONFIRMED,
        token_hash=hash_token(waitlist_token(reference, purpose_key("waitlist"))),
        created_at=now,
        updated_at=now,
    )
    entry.units = checked.units
    db.session.add(entry)
    db.session.flush()
    waitlist_notices.waitlist_confirm(entry, reason)
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


def _window(unit: Unit | None, now: datetime) -> tuple[date, date]:
    """The dates one can wait for: the unit's booking window (Paris's without a unit)."""
    if unit is not None:
        return booking_window(unit, now)
    today = now.astimezone(ZoneInfo("Europe/Paris")).date()
    return today, today + timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"])


def nearby_units(unit: Unit, count: int = UNITS_MAX - 1) -> list[Unit]:
    """The active units nearest to this one (to wait at several at once)."""
    point, _ = unit_point(unit)
    if point is None:
        return []
    around = nearest(point, count + 1, department=unit.department)[0]
    ids = [i for i, _ in around if i != unit.id]
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids[:count] if i in found]

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
from booking.domain.capacity import ON_SITE, PHONE
from booking.domain.words import N_
from booking.errors import Conflict, Invalid, LimitReached
from booking.extensions import db
from booking.keys import purpose_key
from booking.models import EntryStatus, Reason, Unit, WaitlistEntry
from booking.services.bookings.contact import Contact, mailbox_key, validate_contact
from booking.services.bookings.mailbox import MAILBOX_LOCK
from booking.services.bookings.make import PHONE_NEEDED
from booking.services.messages import waitlist_notices
from booking.services.places.nearby import nearest, unit_point
from booking.services.slots.offered import booking_window, mode_refused
from booking.services.waitlist.offers import SlotsOfRun, Wish, matching
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
    since: date | None = None  # today when None
    mode: str = ON_SITE
    phone: str = ""  # the number to call, for `phone`
    language: str = "fr"  # what its emails speak (SPEC §13)


@dataclass(frozen=True)
class _Checked:
    """A request found right: who, where, when."""

    contact: Contact
    units: list[Unit]
    wish: Wish


class SlotsFree(Conflict):
    """Slots that suit are free now: book one rather than wait."""

    code = "slots_free"
    default_message = N_(
        "Des créneaux qui vous conviennent sont libres en ce moment : réservez-en un"
        " directement. La liste d'attente sert quand aucun ne convient."
    )


@dataclass(frozen=True)
class Joined:
    """The entry a request made: its reference (the `id` partners are answered), whether it
    waits (a partner's) or awaits its confirmation from the email."""

    reference: str
    status: str


def join(
    reason: Reason, asked: WaitRequest, now: datetime | None = None, trusted: bool = False
) -> Joined:
    """Put a person on the list, unconfirmed, and send the confirmation email; Invalid names
    each wrong field (`name`, `email`, `phone`, `units`, `weekdays`, `parts`, `since`,
    `until`, `mode`), SlotsFree says to book instead. Over the cap, the email says so
    instead (the answer is the same). A `trusted` partner's entry waits at once, or is
    refused at the cap (LimitReached), as its bookings are."""
    now = now or clock.now()
    checked = _check(reason, asked, now)
    if any(matching(unit, reason, checked.wish, SlotsOfRun(now)) for unit in checked.units):
        raise SlotsFree()
    return _write_entry(reason, checked, now, trusted, asked.language)


def _check(reason: Reason, asked: WaitRequest, now: datetime) -> _Checked:
    """The request checked: one Invalid names every wrong field."""
    units = _units(asked.units)
    first = units[0] if units else None
    errors: dict[str, str] = {}
    contact = None
    try:
        contact = validate_contact(
            asked.name, asked.email, asked.phone, "", first.department if first else ""
        )
    except Invalid as error:
        errors.update(error.fields)
    errors.update(_how_errors(reason, asked, units, errors))
    weekdays = "".join(str(day) for day in sorted(asked.weekdays) if 0 <= day <= 6)
    if not weekdays:
        errors["weekdays"] = N_("Choisissez au moins un jour de la semaine.")
    parts = "".join(part for part in PARTS if part in asked.parts)
    if not parts:
        errors["parts"] = N_("Choisissez le matin, l'après-midi, ou les deux.")
    today, horizon = _window(first, now)
    errors.update(_days_errors(asked, today, horizon))
    if contact is None or errors:
        raise Invalid(fields=errors)
    until = min(asked.until or horizon, horizon)
    since = asked.since if asked.since is not None and asked.since > today else None
    return _Checked(contact, units, Wish(weekdays, parts, until, since, asked.mode))


def _how_errors(
    reason: Reason, asked: WaitRequest, units: list[Unit], found: dict[str, str]
) -> dict[str, str]:
    """What is wrong with the units, the mode and its number (`found`: the contact's)."""
    errors = {}
    if not units:
        errors["units"] = N_("Choisissez au moins une unité.")
    if asked.mode not in reason.mode_list:
        errors["mode"] = mode_refused(asked.mode).message
    elif asked.mode != ON_SITE and units and not any(u.remote_lines for u in units):
        errors["mode"] = N_("Ces unités ne donnent pas de rendez-vous à distance.")
    if asked.mode == PHONE and not asked.phone.strip() and "phone" not in found:
        errors["phone"] = PHONE_NEEDED
    return errors


def _days_errors(asked: WaitRequest, today: date, horizon: date) -> dict[str, str]:
    """What is wrong with the first and last days."""
    errors = {}
    if asked.until is not None and asked.until < today:
        errors["until"] = N_("Choisissez une date à venir.")
    if asked.since is not None and asked.until is not None and asked.since > asked.until:
        errors["since"] = N_("Le premier jour doit précéder le dernier.")
    elif asked.since is not None and asked.since > horizon:
        errors["since"] = N_("Choisissez un premier jour dans les semaines que l'on peut réserver.")
    return errors


def _write_entry(
    reason: Reason, checked: _Checked, now: datetime, trusted: bool, language: str
) -> Joined:
    """The entry, unconfirmed, and the email to confirm it (a partner's waits at once); or,
    over the cap, the email that says so, with an entry that will never be confirmed (the
    answer does not tell them apart; it is deleted with the unconfirmed a day later)."""
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
    full = (count or 0) >= current_app.config["WAITLIST_MAX_PER_EMAIL"]
    if full and trusted:
        db.session.rollback()
        raise LimitReached(N_("Cette adresse attend déjà dans autant de listes que permis."))
    reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    wish = checked.wish
    entry = WaitlistEntry(
        reference=reference,
        reason_code=reason.code,
        name=contact.name,
        email=contact.email,
        email_key=key,
        phone=contact.phone,
        weekdays=wish.weekdays,
        parts=wish.parts,
        until=wish.until,
        since=wish.since,
        mode=wish.mode,
        language=language,
        status=EntryStatus.WAITING if trusted else EntryStatus.UNCONFIRMED,
        confirmed_at=now if trusted else None,
        token_hash=hash_token(waitlist_token(reference, purpose_key("waitlist"))),
        created_at=now,
        updated_at=now,
    )
    entry.units = checked.units
    db.session.add(entry)
    db.session.flush()
    if full:
        waitlist_notices.waitlist_full(contact.name, contact.email, language)
    elif not trusted:
        waitlist_notices.waitlist_confirm(entry, reason)
    db.session.commit()
    return Joined(reference, entry.status)


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

"""A unit's own settings: opening hours, desks, exceptional closures.

A change that would leave booked visits outside the new hours, over the new number of
desks or inside a closure first lists them; once confirmed, it cancels them with a
notification giving the reason and a link to book again. Every change locks the unit first
(as bookings do), so a booking made meanwhile is either seen and listed, or made after the
change and checked against it. Every change is audited, marks the unit as locally edited (a
re-import keeps it) and shows at once in slots and open data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write, fresh
from booking.db_rules import refusal
from booking.domain.capacity import DESKS, draws_on
from booking.domain.hours import HoursError, WeeklyHours, normalise_hours
from booking.domain.instants import Interval
from booking.domain.occupancy import over_capacity
from booking.domain.slots import within_opening_hours
from booking.domain.zones import local_today
from booking.errors import Conflict, Invalid, NotFound
from booking.extensions import db
from booking.models import Booking, Closure, OpeningRange, StaffUser, Unit, holding_seat
from booking.services.staff import audit
from booking.services.staff.agenda import cancel_for_unit
from booking.services.units.reading import lock_unit, scheduled_hours, weekly_hours

MAX_DESKS = 50
HOURS_CHANGED = "Modification des horaires d'accueil de l'unité."
DESKS_CHANGED = "Réduction du nombre de guichets de l'unité."


@dataclass
class Outcome:
    """What a change does to booked visits: listed first (in date order), cancelled once
    confirmed. For new hours: the date they apply from, and the first date from which they
    would cancel nothing."""

    affected: list[tuple[Booking, str]] = field(default_factory=list)
    applied: bool = False
    effective: date | None = None
    suggested: date | None = None


def change_hours(
    actor: StaffUser,
    unit: Unit,
    hours: WeeklyHours,
    desks: int,
    confirmed: bool,
    now: datetime | None = None,
    effective: date | None = None,
) -> Outcome:
    """New weekly and holiday ranges from a local date on (by default the first day from
    which they cancel no booked visit, tomorrow at the earliest), and a number of desks (at
    once). Until that date the hours in force stay; visits before it are never touched."""
    now = now or clock.now()
    if not 1 <= desks <= MAX_DESKS:
        raise Invalid("Nombre de guichets invalide.", {"desks": f"entre 1 et {MAX_DESKS}"})
    try:
        new_hours = normalise_hours(hours)
    except HoursError as error:
        raise Invalid(str(error)) from None
    today = local_today(unit.department, now)
    if effective is not None and effective < today:
        raise Invalid("Date d'effet passée.", {"from": "aujourd'hui ou plus tard"})
    begin_write()
    unit = lock_unit(unit.id)
    active = _active_from(unit, now)
    suggested = _first_day_unaffected(unit, active, new_hours, now, today)
    effective = effective or suggested
    affected = _no_longer_fitting(unit, active, new_hours, desks, now, effective)
    if affected and not confirmed:
        db.session.rollback()
        return Outcome(affected, effective=effective, suggested=suggested)
    before = {"horaires": weekly_hours(unit), "guichets": unit.desks}
    for booking, reason in affected:
        cancel_for_unit(actor, booking, reason)
    _write_or_conflict(db.session.flush)
    unit.desks = desks
    _set_hours(unit, new_hours, None if effective <= today else effective)
    unit.hours_edited_locally = True
    unit.updated_at = now
    after = {"horaires": new_hours, "guichets": desks, "a_partir_du": effective.isoformat()}
    audit.record(actor, "horaires et guichets", unit, unit.public_id, before, after)
    _write_or_conflict(db.session.commit)
    return Outcome(affected, applied=True, effective=effective, suggested=suggested)


def _set_hours(unit: Unit, hours: WeeklyHours, valid_from: date | None) -> None:
    """The new ranges: in force now (`valid_from` None), or from a later date on, in place
    of any change set before; the ranges in force stay until then."""
    kept = [o for o in unit.opening_ranges if valid_from is not None and o.valid_from is None]
    unit.opening_ranges = kept + [
        OpeningRange(weekday=day, start_minute=start, end_minute=end, valid_from=valid_from)
        for day, ranges in hours.items()
        for start, end in ranges
    ]


def promote_scheduled_hours(now: datetime | None = None) -> int:
    """The job runner's: hours set from a date that has come become the hours in force
    (what the unit page and the open data show); return how many units changed."""
    now = now or clock.now()
    due = db.session.execute(
        select(OpeningRange.unit_id, Unit.department, OpeningRange.valid_from)
        .join(Unit, Unit.id == OpeningRange.unit_id)
        .where(OpeningRange.valid_from.is_not(None))
        .distinct()
    ).all()
    db.session.rollback()
    changed = 0
    for unit_id, department, valid_from in due:
        if valid_from is None or valid_from > local_today(department, now):
            continue
        begin_write()
        unit = lock_unit(unit_id)
        later = scheduled_hours(unit)
        if later is not None and later[0] <= local_today(unit.department, now):
            _set_hours(unit, later[1], None)
            unit.updated_at = now
            changed += 1
        db.session.commit()
    return changed


def add_closure(
    actor: StaffUser,
    unit: Unit,
    start: datetime,
    end: datetime,
    reason: str,
    confirmed: bool,
    now: datetime | None = None,
) -> Outcome:
    """An exceptional closure; booked visits inside it are listed, then cancelled."""
    now = now or clock.now()
    reason = " ".join(reason.split())
    errors = {}
    if end <= start:
        errors["end"] = "la fin doit suivre le début"
    if end <= now:
        errors["end"] = "la fermeture est déjà passée"
    if not 3 <= len(reason) <= 200:
        errors["reason"] = "indiquez la raison (3 à 200 caractères)"
    if errors:
        raise Invalid("Fermeture invalide.", errors)
    begin_write()
    unit = lock_unit(unit.id)
    affected = [
        (booking, f"Fermeture exceptionnelle de l'unité : {reason}")
        for booking in _active_from(unit, now)
        if booking.starts_at > now and booking.starts_at < end and booking.ends_at > start
    ]
    if affected and not confirmed:
        db.session.rollback()
        return Outcome(affected)
    for booking, why in affected:
        cancel_for_unit(actor, booking, why)
    _write_or_conflict(db.session.flush)  # the cancellations first: the closure rule checks them
    db.session.add(Closure(unit_id=unit.id, starts_at=start, ends_at=end, reason=reason))
    unit.updated_at = now
    audit.record(
        actor, "fermeture ajoutée", unit, "", None, {"debut": start, "fin": end, "raison": reason}
    )
    _write_or_conflict(db.session.commit)
    return Outcome(affected, applied=True)


def remove_closure(actor: StaffUser, unit: Unit, closure_id: int) -> None:
    """Reopen: delete a closure of this unit (another unit's closure is not found)."""
    begin_write()
    lock_unit(unit.id)
    closure = db.session.scalar(
        select(Closure).where(Closure.id == closure_id, Closure.unit_id == unit.id)
    )
    if closure is None:
        raise NotFound("Fermeture introuvable.")
    before = {"debut": closure.starts_at, "fin": closure.ends_at, "raison": closure.reason}
    db.session.delete(closure)
    audit.record(actor, "fermeture supprimée", unit, str(closure_id), before, None)
    db.session.commit()


def closures(unit: Unit, now: datetime | None = None) -> list[Closure]:
    """The unit's current and future closures."""
    now = now or clock.now()
    return list(
        db.session.scalars(
            select(Closure)
            .where(Closure.unit_id == unit.id, Closure.ends_at > now)
            .order_by(Closure.starts_at)
        )
    )


def _active_from(unit: Unit, now: datetime) -> list[Booking]:
    """Bookings holding a desk not over yet, in progress first, then oldest booked (read
    afresh)."""
    found = db.session.scalars(
        fresh(
            select(Booking)
            .where(
                Booking.unit_id == unit.id,
                holding_seat(now=now),
                Booking.ends_at > now,
            )
            .options(joinedload(Booking.reason), joinedload(Booking.unit))
            .order_by(Booking.created_at, Booking.id)
        )
    )
    return sorted(found, key=lambda booking: booking.starts_at > now)


def _outside(
    unit: Unit, active: list[Booking], hours: WeeklyHours, now: datetime, since: date
) -> list[Booking]:
    """The visits still to come, from the local date `since` on, that new hours leave out."""
    zone = ZoneInfo(unit.timezone)
    return [
        b
        for b in active
        if b.starts_at > now
        and b.starts_at.astimezone(zone).date() >= since
        and not within_opening_hours(hours, unit.department, b.starts_at, b.ends_at)
    ]


def _first_day_unaffected(
    unit: Unit, active: list[Booking], hours: WeeklyHours, now: datetime, today: date
) -> date:
    """The first date, tomorrow at the earliest, from which new hours cancel no visit."""
    zone = ZoneInfo(unit.timezone)
    days = [b.starts_at.astimezone(zone).date() for b in _outside(unit, active, hours, now, today)]
    return max([today + timedelta(days=1), *(day + timedelta(days=1) for day in days)])


def _no_longer_fitting(
    unit: Unit,
    active: list[Booking],
    hours: WeeklyHours,
    desks: int,
    now: datetime,
    effective: date,
) -> list[tuple[Booking, str]]:
    """The visits still to come that new hours (from `effective` on) and desks leave out,
    each with the reason they are told, in date order; visits in progress keep their desk
    (they cannot be cancelled)."""
    outside = _outside(unit, active, hours, now, effective)
    # Desks seat the visits on site only; phone and video draw on the remote lines.
    kept = [b for b in active if b not in outside and draws_on(b.mode) == DESKS]
    started = [b for b in kept if b.starts_at <= now]
    over = over_capacity([Interval(b.starts_at, b.ends_at) for b in kept], desks)
    if any(index < len(started) for index in over):
        raise Conflict(
            f"Des visites en cours occupent plus de {desks} guichet(s) : réduisez le nombre"
            " de guichets après leur fin."
        )
    found = [(b, HOURS_CHANGED) for b in outside] + [(kept[i], DESKS_CHANGED) for i in over]
    return sorted(found, key=lambda item: (item[0].starts_at, item[0].id))


def _write_or_conflict(write: Callable[[], None]) -> None:
    """Write; a refusal of the database's rules (a visit booked at this very instant) is a
    conflict to try again, not an error."""
    try:
        write()
    except DBAPIError as error:
        db.session.rollback()
        if refusal(error):
            raise Conflict(
                "Un rendez-vous vient d'être pris pendant ce changement : vérifiez et recommencez."
            ) from error
        raise

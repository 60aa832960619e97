"""A unit's own settings: opening hours, desks, exceptional closures.

A change that would leave booked visits outside the new hours, over the new number of
desks or inside a closure first lists them; once confirmed, it cancels them with a
notification giving the reason and a link to book again. Every change is audited, marks
the unit as locally edited (a re-import keeps it) and shows at once in slots and open data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write
from booking.domain.hours import Range, WeeklyHours, normalise_hours
from booking.domain.slots import day_ranges
from booking.extensions import db
from booking.formatting import local
from booking.models import (
    ACTIVE_STATUSES,
    Booking,
    Closure,
    OpeningRange,
    StaffUser,
    Unit,
)
from booking.services import audit
from booking.services.agenda import cancel_for_unit
from booking.services.units import weekly_hours

MAX_DESKS = 50
HOURS_CHANGED = "Modification des horaires d'accueil de l'unité."
DESKS_CHANGED = "Réduction du nombre de guichets de l'unité."


class SettingsError(ValueError):
    """A setting that cannot be applied; `fields` names the culprits in French."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


@dataclass
class Outcome:
    """What a change does to booked visits: listed first, cancelled once confirmed."""

    affected: list[tuple[Booking, str]] = field(default_factory=list)
    applied: bool = False


def change_hours(
    actor: StaffUser,
    unit: Unit,
    hours: WeeklyHours,
    desks: int,
    confirmed: bool,
    now: datetime | None = None,
) -> Outcome:
    """New weekly and holiday ranges and number of desks."""
    now = now or clock.now()
    if not 1 <= desks <= MAX_DESKS:
        raise SettingsError("Nombre de guichets invalide.", {"desks": f"entre 1 et {MAX_DESKS}"})
    new_hours = normalise_hours(hours)
    begin_write()
    unit = cast(Unit, db.session.get(Unit, unit.id))
    upcoming = _upcoming(unit, now)
    outside = {b.id for b in upcoming if not _inside_hours(b, unit, new_hours)}
    over = _over_desks([b for b in upcoming if b.id not in outside], desks)
    affected = [(b, HOURS_CHANGED) for b in upcoming if b.id in outside]
    affected += [(b, DESKS_CHANGED) for b in upcoming if b.id in over]
    if affected and not confirmed:
        db.session.rollback()
        return Outcome(affected)
    before = {"horaires": weekly_hours(unit), "guichets": unit.desks}
    for booking, reason in affected:
        cancel_for_unit(actor, booking, reason)
    db.session.flush()
    unit.desks = desks
    unit.opening_ranges = [
        OpeningRange(weekday=day, start_minute=start, end_minute=end)
        for day, ranges in new_hours.items()
        for start, end in ranges
    ]
    unit.hours_edited_locally = True
    unit.updated_at = now
    audit.record(actor, "horaires et guichets", unit, unit.public_id, before,
                 {"horaires": new_hours, "guichets": desks})  # fmt: skip
    db.session.commit()
    return Outcome(affected, applied=True)


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
        raise SettingsError("Fermeture invalide.", errors)
    begin_write()
    unit = cast(Unit, db.session.get(Unit, unit.id))
    affected = [
        (booking, f"Fermeture exceptionnelle de l'unité : {reason}")
        for booking in _upcoming(unit, now)
        if booking.starts_at < end and booking.ends_at > start
    ]
    if affected and not confirmed:
        db.session.rollback()
        return Outcome(affected)
    for booking, why in affected:
        cancel_for_unit(actor, booking, why)
    db.session.add(Closure(unit_id=unit.id, starts_at=start, ends_at=end, reason=reason))
    unit.updated_at = now
    audit.record(actor, "fermeture ajoutée", unit, "", None,
                 {"debut": start, "fin": end, "raison": reason})  # fmt: skip
    db.session.commit()
    return Outcome(affected, applied=True)


def remove_closure(actor: StaffUser, unit: Unit, closure_id: int) -> None:
    """Reopen: delete a closure of this unit (another unit's closure is not found)."""
    begin_write()
    closure = db.session.scalar(
        select(Closure).where(Closure.id == closure_id, Closure.unit_id == unit.id)
    )
    if closure is None:
        raise SettingsError("Fermeture introuvable.")
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


def _upcoming(unit: Unit, now: datetime) -> list[Booking]:
    """Confirmed bookings that have not started, oldest booked first."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.unit_id == unit.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at > now,
            )
            .options(joinedload(Booking.reason), joinedload(Booking.unit))
            .order_by(Booking.created_at, Booking.id)
        )
    )


def _inside_hours(booking: Booking, unit: Unit, hours: dict[int, list[Range]]) -> bool:
    """Whether the visit lies within one opening range of its local day."""
    start = local(booking.starts_at, unit.timezone)
    end = local(booking.ends_at, unit.timezone)
    first = start.hour * 60 + start.minute
    last = (end.date() - start.date()).days * 1440 + end.hour * 60 + end.minute
    ranges = day_ranges(hours, unit.department, start.date())
    return any(a <= first and last <= b for a, b in ranges)


def _over_desks(bookings: list[Booking], desks: int) -> set[int]:
    """Bookings to cancel so that no more than `desks` are in progress: latest booked lose."""
    kept: list[Booking] = []
    over = set()
    for booking in bookings:  # oldest booked first: they keep their place
        instants = [booking.starts_at] + [
            other.starts_at
            for other in kept
            if booking.starts_at < other.starts_at < booking.ends_at
        ]
        peak = max(
            sum(1 for other in kept if other.starts_at <= t < other.ends_at) for t in instants
        )
        if peak >= desks:
            over.add(booking.id)
        else:
            kept.append(booking)
    return over

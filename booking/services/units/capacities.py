"""A unit's capacities (SPEC §12): desks for visits on site, remote lines for phone and
video appointments together.

Lowering one is refused, with the visits listed, when the visits still to come that draw
on it would no longer fit: the staff move or cancel them first (the settings page of hours
and desks cancels them itself, once confirmed). The unit is locked first, as bookings do,
so a booking made meanwhile is either counted here or checked by the database against the
new number; the database's rule has the last word either way. Audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write, fresh
from booking.db_rules import refusal
from booking.domain.capacity import DESKS, LINES, draws_on
from booking.domain.instants import Interval
from booking.domain.occupancy import over_capacity
from booking.errors import Conflict, Invalid
from booking.extensions import db
from booking.models import Booking, StaffUser, Unit, holding_seat
from booking.services.staff import audit
from booking.services.units.reading import lock_unit

MAX_SEATS = 50
NAMES = {DESKS: "guichets", LINES: "lignes à distance"}


class TooFewSeats(Conflict):
    """Fewer seats than the visits booked from now on need: `visits` lists those that
    would no longer fit (in date order)."""

    code = "capacity_below_bookings"

    def __init__(self, message: str, visits: list[Booking]) -> None:
        super().__init__(message)
        self.visits = visits


@dataclass(frozen=True)
class Capacities:
    """A unit's new capacities; None keeps one as it is."""

    desks: int | None = None
    remote_lines: int | None = None


def set_capacities(
    actor: StaffUser | None, unit_id: int, wanted: Capacities, now: datetime | None = None
) -> Unit:
    """Give the unit new capacities, at once; Invalid for a number out of range,
    TooFewSeats with the visits when a lowered one would leave some out."""
    now = now or clock.now()
    _check_range(wanted)
    begin_write()
    unit = lock_unit(unit_id)
    if unit is None:
        db.session.rollback()
        raise Invalid("Unité inconnue.")
    before = {NAMES[DESKS]: unit.desks, NAMES[LINES]: unit.remote_lines}
    active = _still_to_come(unit, now)
    for column, seats in ((DESKS, wanted.desks), (LINES, wanted.remote_lines)):
        if seats is None or seats >= getattr(unit, column):
            continue
        left_out = _left_out(active, column, seats, now)
        if left_out:
            db.session.rollback()
            raise TooFewSeats(
                f"{len(left_out)} rendez-vous déjà pris ne tiendraient plus sur {seats}"
                f" {NAMES[column]} : déplacez-les ou annulez-les d'abord.",
                left_out,
            )
    if wanted.desks is not None:
        unit.desks = wanted.desks
    if wanted.remote_lines is not None:
        unit.remote_lines = wanted.remote_lines
    unit.updated_at = now
    after = {NAMES[DESKS]: unit.desks, NAMES[LINES]: unit.remote_lines}
    audit.record(actor, "capacités", unit, unit.public_id, before, after)
    try:
        db.session.commit()
    except DBAPIError as error:  # a visit booked at this very instant: the rule refused
        db.session.rollback()
        if refusal(error):
            raise Conflict("Un rendez-vous vient d'être pris : vérifiez et recommencez.") from error
        raise
    return unit


def _check_range(wanted: Capacities) -> None:
    """Desks from 1, lines from 0, both up to MAX_SEATS."""
    errors = {}
    if wanted.desks is not None and not 1 <= wanted.desks <= MAX_SEATS:
        errors["desks"] = f"Nombre de guichets : entre 1 et {MAX_SEATS}."
    if wanted.remote_lines is not None and not 0 <= wanted.remote_lines <= MAX_SEATS:
        errors["remote_lines"] = f"Nombre de lignes à distance : entre 0 et {MAX_SEATS}."
    if errors:
        raise Invalid(fields=errors)


def _still_to_come(unit: Unit, now: datetime) -> list[Booking]:
    """The unit's bookings holding a seat that are not over, oldest booked first."""
    return list(
        db.session.scalars(
            fresh(
                select(Booking)
                .where(Booking.unit_id == unit.id, holding_seat(now=now), Booking.ends_at > now)
                .options(joinedload(Booking.reason))
                .order_by(Booking.created_at, Booking.id)
            )
        )
    )


def _left_out(active: list[Booking], column: str, seats: int, now: datetime) -> list[Booking]:
    """The visits drawing on `column` that `seats` would leave out, in date order: those in
    progress keep theirs first, then the oldest booked."""
    drawing = sorted(
        (b for b in active if draws_on(b.mode) == column), key=lambda b: b.starts_at > now
    )
    over = over_capacity([Interval(b.starts_at, b.ends_at) for b in drawing], seats)
    return sorted((drawing[i] for i in over), key=lambda b: (b.starts_at, b.id))

"""Offered slots of a unit for a reason, and the first one of many units at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select

from booking import clock
from booking.domain.slots import Interval, Slot, first_offered_slot, offered_slots
from booking.domain.zones import local_today
from booking.extensions import db
from booking.models import Booking, BookingStatus, Closure, Reason, Unit
from booking.services.reasons import get_reason
from booking.services.units import get_unit, hours_by_unit, weekly_hours


class InvalidPeriod(ValueError):
    """A period of dates that cannot be asked for; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Policy:
    """How far ahead and how late a slot can be booked (SPEC §3.5)."""

    min_notice: timedelta
    horizon_days: int


@dataclass(frozen=True)
class UnitSlots:
    """A unit's offered slots for a reason over a period of local dates."""

    unit: Unit
    reason: Reason
    first_day: date
    last_day: date
    slots: list[Slot]


def policy() -> Policy:
    """The booking policy of the running configuration."""
    config = current_app.config
    return Policy(
        min_notice=timedelta(minutes=config["BOOKING_MIN_NOTICE_MINUTES"]),
        horizon_days=config["BOOKING_HORIZON_DAYS"],
    )


def booking_window(unit: Unit, now: datetime, rules: Policy) -> tuple[date, date]:
    """The local dates a citizen can book at this unit: today .. today + horizon."""
    today = local_today(unit.department, now)
    return today, today + timedelta(days=rules.horizon_days)


def unit_slots(
    public_id: str,
    reason_code: str,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
    exclude_booking: int | None = None,
) -> UnitSlots:
    """Offered slots of an active unit for an active reason, local dates first..last.

    `exclude_booking` leaves one booking out of the occupancy: the one being moved.
    """
    now = now or clock.now()
    unit = get_unit(public_id)
    reason = get_reason(reason_code)
    rules = policy()
    today, horizon = booking_window(unit, now, rules)
    first_day, last_day = first_day or today, last_day or horizon
    if last_day < first_day:
        raise InvalidPeriod("to", "le dernier jour précède le premier")
    if (last_day - first_day).days > rules.horizon_days:
        raise InvalidPeriod("to", f"au plus {rules.horizon_days + 1} jours à la fois")
    busy = _occupancy([unit.id], now, rules, exclude_booking)
    slots = offered_slots(
        **_engine_arguments(UnitView.of(unit), reason, busy, now, rules),
        first_day=first_day,
        last_day=last_day,
    )
    return UnitSlots(unit, reason, first_day, last_day, slots)


@dataclass(frozen=True)
class UnitView:
    """What the slot engine needs of a unit, without the ORM (thousands load fast)."""

    id: int
    department: str
    desks: int
    hours: dict[int, list[tuple[int, int]]]

    @classmethod
    def of(cls, unit: Unit) -> UnitView:
        """The view of a loaded unit."""
        return cls(unit.id, unit.department, unit.desks, weekly_hours(unit))


def first_slots(
    units: Sequence[Unit], reason: Reason, now: datetime | None = None
) -> dict[int, Slot | None]:
    """The first offered slot of each unit for a reason, with two queries for them all."""
    return _first_slots([UnitView.of(unit) for unit in units], reason, now)


def all_first_slots(reason: Reason, now: datetime | None = None) -> dict[int, Slot | None]:
    """The first offered slot of every active unit: plain rows, four queries in all."""
    hours = hours_by_unit()
    rows = db.session.execute(
        select(Unit.id, Unit.department, Unit.desks).where(Unit.active.is_(True))
    )
    views = [UnitView(i, department, desks, hours.get(i, {})) for i, department, desks in rows]
    return _first_slots(views, reason, now, every_unit=True)


def _first_slots(
    views: list[UnitView], reason: Reason, now: datetime | None, every_unit: bool = False
) -> dict[int, Slot | None]:
    """The first offered slot of each unit."""
    now = now or clock.now()
    rules = policy()
    busy = _occupancy(None if every_unit else [view.id for view in views], now, rules)
    return {
        view.id: first_offered_slot(**_engine_arguments(view, reason, busy, now, rules))
        for view in views
    }


def _engine_arguments(
    unit: UnitView, reason: Reason, busy: _Occupancy, now: datetime, rules: Policy
) -> dict[str, Any]:
    """What the slot engine needs to know of one unit, as plain values."""
    return {
        "hours": unit.hours,
        "department": unit.department,
        "duration_minutes": reason.duration_minutes,
        "desks": unit.desks,
        "closures": busy.closures.get(unit.id, []),
        "bookings": busy.bookings.get(unit.id, []),
        "now": now,
        "min_notice": rules.min_notice,
        "horizon_days": rules.horizon_days,
    }


def occupies_desk(now: datetime) -> ColumnElement[bool]:
    """A confirmed booking, or a hold whose citizen may still confirm it."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.PENDING, Booking.hold_expires_at > now),
    )


@dataclass
class _Occupancy:
    """Closures and active bookings of some units, as intervals."""

    closures: dict[int, list[Interval]]
    bookings: dict[int, list[Interval]]


def _occupancy(
    unit_ids: list[int] | None,
    now: datetime,
    rules: Policy,
    exclude_booking: int | None = None,
) -> _Occupancy:
    """What stands in the way of new bookings within the horizon, for some units or all."""
    # Two days of margin on each side cover every time zone's local dates.
    start, end = now - timedelta(days=2), now + timedelta(days=rules.horizon_days + 2)
    busy = _Occupancy({}, {})
    closure_filter = [Closure.ends_at > start, Closure.starts_at < end]
    booking_filter = [Booking.ends_at > start, Booking.starts_at < end]
    if unit_ids is not None:
        closure_filter.append(Closure.unit_id.in_(unit_ids))
        booking_filter.append(Booking.unit_id.in_(unit_ids))
    closures = db.session.execute(
        select(Closure.unit_id, Closure.starts_at, Closure.ends_at).where(*closure_filter)
    )
    for unit_id, starts_at, ends_at in closures:
        busy.closures.setdefault(unit_id, []).append(Interval(starts_at, ends_at))
    bookings = db.session.execute(
        select(Booking.unit_id, Booking.starts_at, Booking.ends_at).where(
            *booking_filter, occupies_desk(now), Booking.id != (exclude_booking or 0)
        )
    )
    for unit_id, starts_at, ends_at in bookings:
        busy.bookings.setdefault(unit_id, []).append(Interval(starts_at, ends_at))
    return busy

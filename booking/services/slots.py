"""Offered slots of a unit for a reason, one start checked alone, the first slot of many units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select

from booking import clock
from booking.domain.hours import WeeklyHours
from booking.domain.slots import (
    Interval,
    Slot,
    SlotQuery,
    first_offered_slot,
    offered_slot_at,
    offered_slots,
)
from booking.domain.zones import local_today
from booking.extensions import db
from booking.models import Booking, BookingStatus, Closure, Reason, Unit
from booking.services.units import hours_by_unit, weekly_hours


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


@dataclass(frozen=True)
class UnitView:
    """What the slot engine needs of a unit, without the ORM (thousands load fast)."""

    id: int
    department: str
    desks: int
    hours: WeeklyHours

    @classmethod
    def of(cls, unit: Unit) -> UnitView:
        """The view of a loaded unit."""
        return cls(unit.id, unit.department, unit.desks, weekly_hours(unit))


def policy() -> Policy:
    """The booking policy of the running configuration."""
    config = current_app.config
    return Policy(
        min_notice=timedelta(minutes=config["BOOKING_MIN_NOTICE_MINUTES"]),
        horizon_days=config["BOOKING_HORIZON_DAYS"],
    )


def booking_window(unit: Unit, now: datetime) -> tuple[date, date]:
    """The local dates a citizen can book at this unit: today .. today + horizon."""
    today = local_today(unit.department, now)
    return today, today + timedelta(days=policy().horizon_days)


def unit_slots(
    unit: Unit,
    reason: Reason,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
    exclude_booking: int | None = None,
) -> UnitSlots:
    """Offered slots of a unit for a reason, local dates first..last (default: the horizon).

    An inverted period holds no date, and dates beyond the horizon hold no slot: both are
    answered with the slots they do hold. `exclude_booking` leaves one booking out of the
    occupancy: the one being moved.
    """
    now = now or clock.now()
    rules = policy()
    today, horizon = booking_window(unit, now)
    first_day, last_day = first_day or today, last_day or horizon
    busy = _occupancy([unit.id], now, *_horizon_span(now, rules), exclude_booking)
    query = slot_query(UnitView.of(unit), reason, busy, now, rules)
    return UnitSlots(unit, reason, first_day, last_day, offered_slots(query, first_day, last_day))


def last_week() -> int:
    """Index of the last week a citizen can page to (week 0 starts today)."""
    return policy().horizon_days // 7


def week_slots(
    unit: Unit,
    reason: Reason,
    week: int,
    now: datetime | None = None,
    exclude_booking: int | None = None,
) -> UnitSlots:
    """Offered slots of the `week`-th week from the unit's today (0 = today and 6 days);
    `exclude_booking` as for `unit_slots`."""
    now = now or clock.now()
    today, horizon = booking_window(unit, now)
    first = today + timedelta(days=7 * week)
    last = min(first + timedelta(days=6), horizon)
    if first > horizon:
        return UnitSlots(unit, reason, first, first, [])
    return unit_slots(unit, reason, first, last, now, exclude_booking)


def slot_at(
    unit: Unit,
    reason: Reason,
    start: datetime,
    now: datetime | None = None,
    exclude_booking: int | None = None,
) -> Slot | None:
    """The slot starting at `start` if the unit offers it now: one start checked, the
    occupancy read for the visit's own span only."""
    now = now or clock.now()
    end = start + timedelta(minutes=reason.duration_minutes)
    busy = _occupancy([unit.id], now, start, end, exclude_booking)
    return offered_slot_at(slot_query(UnitView.of(unit), reason, busy, now, policy()), start)


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
    unit_ids = None if every_unit else [view.id for view in views]
    busy = _occupancy(unit_ids, now, *_horizon_span(now, rules))
    return {
        view.id: first_offered_slot(slot_query(view, reason, busy, now, rules)) for view in views
    }


def slot_query(
    unit: UnitView, reason: Reason, busy: Occupancy, now: datetime, rules: Policy
) -> SlotQuery:
    """What the slot engine needs to know of one unit, as plain values."""
    return SlotQuery(
        hours=unit.hours,
        department=unit.department,
        duration_minutes=reason.duration_minutes,
        desks=unit.desks,
        closures=busy.closures.get(unit.id, []),
        bookings=busy.bookings.get(unit.id, []),
        now=now,
        min_notice=rules.min_notice,
        horizon_days=rules.horizon_days,
    )


def occupies_desk(now: datetime) -> ColumnElement[bool]:
    """A confirmed booking, or a hold whose citizen may still confirm it."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.PENDING, Booking.hold_expires_at > now),
    )


@dataclass
class Occupancy:
    """Closures and active bookings of some units, as intervals."""

    closures: dict[int, list[Interval]]
    bookings: dict[int, list[Interval]]


def _horizon_span(now: datetime, rules: Policy) -> tuple[datetime, datetime]:
    """Instants covering the whole horizon: two days of margin cover every zone's dates."""
    return now - timedelta(days=2), now + timedelta(days=rules.horizon_days + 2)


def _occupancy(
    unit_ids: list[int] | None,
    now: datetime,
    start: datetime,
    end: datetime,
    exclude_booking: int | None = None,
) -> Occupancy:
    """Closures and active bookings meeting `[start, end)` at `now`, for some units or all."""
    busy = Occupancy({}, {})
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

"""Offered slots of a unit for a reason, one start checked alone, the first slot of many units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as cast_

from booking import clock
from booking.database import read_alone, run
from booking.domain.hours import Range, WeeklyHours
from booking.domain.slots import (
    Interval,
    Slot,
    SlotQuery,
    first_offered_slot,
    offered_slot_at,
    offered_slots,
)
from booking.domain.zones import local_today
from booking.errors import ReasonNotFound, UnitNotFound
from booking.extensions import db
from booking.models import (
    Booking,
    BookingStatus,
    Closure,
    OpeningRange,
    Reason,
    Unit,
    UTCDateTime,
)
from booking.services.reasons import ReasonTerms
from booking.services.units.reading import hours_by_unit, weekly_hours


class Timed(Protocol):
    """A reason as slots see it: how long a visit lasts."""

    @property
    def duration_minutes(self) -> int: ...


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


def booking_window(unit: Unit | UnitView, now: datetime) -> tuple[date, date]:
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
    today, horizon = booking_window(unit, now)
    first_day, last_day = first_day or today, last_day or horizon
    found = view_slots(UnitView.of(unit), reason, first_day, last_day, now, exclude_booking)
    return UnitSlots(unit, reason, first_day, last_day, found)


def view_slots(
    view: UnitView,
    reason: Timed,
    first_day: date,
    last_day: date,
    now: datetime,
    exclude_booking: int | None = None,
) -> list[Slot]:
    """Offered slots of a unit's plain view over local dates: the occupancy read for those
    dates only (a day asked reads a day), in one statement built once."""
    rules = policy()
    start, end = _horizon_span(now, rules)
    # Two days of margin around the dates cover every zone's offset and overnight visits.
    start = max(start, datetime.combine(first_day - timedelta(days=1), time(), UTC))
    end = min(end, datetime.combine(last_day + timedelta(days=2), time(), UTC))
    busy = _unit_occupancy(view.id, now, start, max(start, end), exclude_booking)
    return offered_slots(slot_query(view, reason, busy, now, rules), first_day, last_day)


@dataclass(frozen=True)
class SlotsAnswer:
    """A unit's offered slots for a reason over local dates, read in one statement, with the
    version of the unit they were computed from (see booking.services.slots.cache)."""

    unit_id: int
    timezone: str
    version: tuple[Any, ...]
    reason: ReasonTerms
    slots: list[Slot]


def answer_slots(
    public_id: str, motif: str, days: tuple[date | None, date | None], now: datetime
) -> SlotsAnswer:
    """The offered slots of an active unit for an active reason over local dates (default:
    the unit's today .. horizon), from one statement: the unit's values, hours and version,
    the reason's duration, and the closures and desk-holding bookings of the dates asked.
    What the slots endpoint runs for a unit and dates it has not answered yet: plain rows,
    no ORM object, one round trip to the database."""
    rules = policy()
    start, end = _horizon_span(now, rules)
    # Two days of margin around the dates cover every zone's offset and overnight visits.
    if days[0] is not None:
        start = max(start, datetime.combine(days[0] - timedelta(days=1), time(), UTC))
    if days[1] is not None:
        end = min(end, datetime.combine(days[1] + timedelta(days=2), time(), UTC))
    asked = {"public_id": public_id, "motif": motif, "now": now}
    rows = read_alone(_SLOTS_READ, {**asked, "start": start, "end": max(start, end)})
    unit: tuple[Any, ...] | None = None
    duration: int | None = None
    hours: dict[int, list[Range]] = {}
    closures: list[Interval] = []
    bookings: list[Interval] = []
    for row in rows:
        kind, first, second, third, text, zone, since, until = tuple(row)
        if kind == _READ_UNIT:
            unit = (first, second, third, text, zone, since)
        elif kind == _READ_HOURS:
            hours.setdefault(first, []).append((second, third))
        elif kind == _READ_REASON:
            duration = first
        else:
            (closures if kind == _READ_CLOSURE else bookings).append(Interval(since, until))
    if unit is None:
        raise UnitNotFound()
    if duration is None:
        raise ReasonNotFound()
    unit_id, desks, changes, department, timezone, updated_at = unit
    busy = Occupancy({unit_id: closures}, {unit_id: bookings})
    ordered = {day: sorted(ranges) for day, ranges in sorted(hours.items())}
    view = UnitView(unit_id, department, desks, ordered)
    today, horizon = booking_window(view, now)
    reason = ReasonTerms(motif, duration)
    found = offered_slots(
        slot_query(view, reason, busy, now, rules), days[0] or today, days[1] or horizon
    )
    return SlotsAnswer(unit_id, timezone, (changes, updated_at, desks), reason, found)


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
    busy = _unit_occupancy(unit.id, now, start, end, exclude_booking)
    return offered_slot_at(slot_query(UnitView.of(unit), reason, busy, now, policy()), start)


def _unit_occupancy(
    unit_id: int, now: datetime, start: datetime, end: datetime, exclude_booking: int | None
) -> Occupancy:
    """One unit's closures and desk-holding bookings meeting [start, end)."""
    busy = Occupancy({unit_id: []}, {unit_id: []})
    rows = run(
        _SPAN_OCCUPANCY,
        {"unit": unit_id, "start": start, "end": end, "now": now, "moved": exclude_booking or 0},
    )
    for row in rows:
        closed, starts_at, ends_at = cast(tuple[int, datetime, datetime], tuple(row))
        (busy.closures if closed else busy.bookings)[unit_id].append(Interval(starts_at, ends_at))
    return busy


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
    unit: UnitView, reason: Timed, busy: Occupancy, now: datetime, rules: Policy
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


# The closures (1) and the bookings holding a desk (0) of one unit meeting [start, end), but
# the booking being moved: built once on the tables, as every booking request runs it.
_closures, _bookings = Closure.__table__.c, Booking.__table__.c
_units, _ranges = Unit.__table__.c, OpeningRange.__table__.c
_SPAN_OCCUPANCY = union_all(
    select(literal(1).label("closed"), _closures.starts_at, _closures.ends_at).where(
        _closures.unit_id == bindparam("unit"),
        _closures.ends_at > bindparam("start", type_=UTCDateTime()),
        _closures.starts_at < bindparam("end", type_=UTCDateTime()),
    ),
    select(literal(0), _bookings.starts_at, _bookings.ends_at).where(
        _bookings.unit_id == bindparam("unit"),
        _bookings.ends_at > bindparam("start", type_=UTCDateTime()),
        _bookings.starts_at < bindparam("end", type_=UTCDateTime()),
        or_(
            _bookings.status == BookingStatus.CONFIRMED.value,
            and_(
                _bookings.status == BookingStatus.PENDING.value,
                _bookings.hold_expires_at > bindparam("now", type_=UTCDateTime()),
            ),
        ),
        _bookings.id != bindparam("moved"),
    ),
)

# What answer_slots reads, in one statement: rows of five kinds on the same eight columns
# (kind, three numbers, two texts, two instants), NULL where a kind has nothing to say.
_READ_UNIT, _READ_HOURS, _READ_REASON, _READ_CLOSURE, _READ_BOOKING = range(5)
_reasons = Reason.__table__.c
_NUMBER, _TEXT, _INSTANT = (
    cast_(null(), Integer),
    cast_(null(), String),
    cast_(null(), UTCDateTime()),
)
_asked_unit = and_(_units.public_id == bindparam("public_id"), _units.active.is_(True))
_asked_unit_id = select(_units.id).where(_asked_unit).scalar_subquery()
_asked_span = (bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
_SLOTS_READ = union_all(
    select(
        literal(_READ_UNIT).label("kind"),
        _units.id,
        _units.desks,
        _units.changes,
        _units.department,
        _units.timezone,
        _units.updated_at,
        _INSTANT,
    ).where(_asked_unit),
    select(
        literal(_READ_HOURS),
        _ranges.weekday,
        _ranges.start_minute,
        _ranges.end_minute,
        _TEXT,
        _TEXT,
        _INSTANT,
        _INSTANT,
    ).where(_ranges.unit_id == _asked_unit_id),
    select(
        literal(_READ_REASON),
        _reasons.duration_minutes,
        _NUMBER,
        _NUMBER,
        _TEXT,
        _TEXT,
        _INSTANT,
        _INSTANT,
    ).where(_reasons.code == bindparam("motif"), _reasons.active.is_(True)),
    select(
        literal(_READ_CLOSURE),
        _NUMBER,
        _NUMBER,
        _NUMBER,
        _TEXT,
        _TEXT,
        _closures.starts_at,
        _closures.ends_at,
    ).where(
        _closures.unit_id == _asked_unit_id,
        _closures.ends_at > _asked_span[0],
        _closures.starts_at < _asked_span[1],
    ),
    select(
        literal(_READ_BOOKING),
        _NUMBER,
        _NUMBER,
        _NUMBER,
        _TEXT,
        _TEXT,
        _bookings.starts_at,
        _bookings.ends_at,
    ).where(
        _bookings.unit_id == _asked_unit_id,
        _bookings.ends_at > _asked_span[0],
        _bookings.starts_at < _asked_span[1],
        or_(
            _bookings.status == BookingStatus.CONFIRMED.value,
            and_(
                _bookings.status == BookingStatus.PENDING.value,
                _bookings.hold_expires_at > bindparam("now", type_=UTCDateTime()),
            ),
        ),
    ),
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

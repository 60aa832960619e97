"""Appointment slots a unit offers for a reason (product spec §3).

All arithmetic is done on integer microseconds since the Unix epoch (see `instants`): exact,
cheap to compare, and independent of the zones the caller's datetimes carry. A range whose
end instant is not after its start instant (one lying wholly in a DST gap) offers nothing.

Where §3 is silent: overlapping ranges of one day are each stepped from their own start, and
a start they share is offered once; closures and bookings with `end <= start` cover no instant;
`desks <= 0` offers nothing; naive datetimes, a non-positive duration and malformed hours raise
ValueError.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from booking.domain.hours import MINUTES_PER_DAY, PUBLIC_HOLIDAYS, WeeklyHours
from booking.domain.instants import (
    MICROSECOND,
    US_PER_MINUTE,
    Interval,
    from_us,
    local_us,
    spans_us,
    to_us,
)
from booking.domain.occupancy import Occupancy
from booking.domain.zones import (
    holiday_subdivision,
    is_public_holiday,
    local_today,
    unit_timezone,
)

__all__ = [
    "MINUTES_PER_DAY",
    "PUBLIC_HOLIDAYS",
    "Interval",
    "Slot",
    "SlotQuery",
    "WeeklyHours",
    "candidate_starts",
    "day_ranges",
    "first_offered_slot",
    "hours_on",
    "holiday_subdivision",
    "is_public_holiday",
    "local_today",
    "offered_slot_at",
    "offered_slots",
    "unit_timezone",
    "within_opening_hours",
]

_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Slot:
    """An offered slot, `start`/`end` in the unit's zone, with the number of free desks."""

    start: datetime
    end: datetime
    available: int


@dataclass(frozen=True, slots=True, eq=False)
class SlotQuery:
    """Everything §3 needs to know to offer a unit's slots for one reason, as plain values."""

    hours: WeeklyHours
    department: str
    duration_minutes: int
    desks: int
    closures: Sequence[Interval]
    bookings: Sequence[Interval]
    now: datetime
    min_notice: timedelta = timedelta(minutes=120)
    horizon_days: int = 28
    # Hours the unit's staff set from a local date on (that date, and the hours).
    later: tuple[date, WeeklyHours] | None = None
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        """Refuse what cannot be computed; note the zone."""
        _check_hours(self.hours)
        if self.later is not None:
            _check_hours(self.later[1])
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        object.__setattr__(self, "tz", unit_timezone(self.department))

    def ranges(self, day: date) -> Sequence[tuple[int, int]]:
        """The opening ranges of a local date: the later hours from their date on."""
        return hours_on(self.hours, self.later, self.department, day)

    @property
    def step(self) -> int:
        """The reason's duration in microseconds."""
        return self.duration_minutes * US_PER_MINUTE

    @property
    def earliest(self) -> int:
        """The first instant a slot may start (minimum notice)."""
        return to_us(self.now) + self.min_notice // MICROSECOND

    def window(self, first_day: date | None, last_day: date | None) -> tuple[date, date]:
        """The local dates asked for, within today .. today + horizon (may come out empty)."""
        today = local_today(self.department, self.now)
        low = today if first_day is None else max(first_day, today)
        high = today + timedelta(days=self.horizon_days)
        return low, high if last_day is None else min(last_day, high)


def _check_hours(hours: WeeklyHours) -> None:
    """Refuse keys other than 0–7 and ranges outside `0 <= start < end <= 1440`."""
    for key, ranges in hours.items():
        if not 0 <= key <= PUBLIC_HOLIDAYS:
            raise ValueError(f"unknown day key {key!r} in opening hours")
        for start, end in ranges:
            if not 0 <= start < end <= MINUTES_PER_DAY:
                raise ValueError(f"invalid opening range ({start}, {end}) for day {key}")


def day_ranges(hours: WeeklyHours, department: str, day: date) -> Sequence[tuple[int, int]]:
    """Opening ranges of a local date: the holiday ones on a public holiday, else the weekday's."""
    key = PUBLIC_HOLIDAYS if is_public_holiday(department, day) else day.weekday()
    return hours.get(key, ())


def hours_on(
    hours: WeeklyHours, later: tuple[date, WeeklyHours] | None, department: str, day: date
) -> Sequence[tuple[int, int]]:
    """Opening ranges of a local date when the hours change on a date: the hours in force
    before it, the later ones from it on."""
    if later is not None and day >= later[0]:
        return day_ranges(later[1], department, day)
    return day_ranges(hours, department, day)


def _day_candidates(
    ranges: Sequence[tuple[int, int]], day: date, tz: ZoneInfo, step: int
) -> list[int]:
    """Sorted distinct candidate starts (µs) of one local day; slots never cross a range's end."""
    starts: list[int] = []
    for first, last in ranges:
        begin, end = local_us(tz, day, first), local_us(tz, day, last)
        # A range lying wholly inside a DST gap ends up with end <= begin: it yields nothing.
        starts.extend(range(begin, end - step + 1, step))
    return starts if len(ranges) < 2 else sorted(set(starts))


def candidate_starts(
    *, hours: WeeklyHours, department: str, duration_minutes: int, day: date
) -> list[datetime]:
    """Grid starts of one local date in the unit's zone, before notice/closure/desk filters."""
    _check_hours(hours)
    if duration_minutes <= 0:
        raise ValueError("duration_minutes must be positive")
    tz = unit_timezone(department)
    step = duration_minutes * US_PER_MINUTE
    ranges = day_ranges(hours, department, day)
    return [from_us(start, tz) for start in _day_candidates(ranges, day, tz, step)]


class _Filters:
    """Closures and bookings of a query, ready for the per-candidate checks."""

    def __init__(self, query: SlotQuery) -> None:
        closures = sorted(spans_us(query.closures))
        self.closure_starts: list[int] = []
        self.closure_ends: list[int] = []
        for begin, end in closures:  # merged into disjoint sorted spans
            if self.closure_ends and begin <= self.closure_ends[-1]:
                self.closure_ends[-1] = max(self.closure_ends[-1], end)
            else:
                self.closure_starts.append(begin)
                self.closure_ends.append(end)
        self.busy = Occupancy(spans_us(query.bookings))
        self.desks = query.desks

    def free_desks(self, begin: int, end: int) -> int:
        """Desks left over `[begin, end)`: 0 inside a closure or when all are taken."""
        index = bisect_right(self.closure_ends, begin)
        if index < len(self.closure_starts) and self.closure_starts[index] < end:
            return 0
        return self.desks - (self.busy.peak(begin, end, self.desks) if self.busy else 0)


def _offered(query: SlotQuery, first_day: date | None, last_day: date | None) -> Iterator[Slot]:
    """Offered slots in increasing start order, computed lazily one local day at a time."""
    day, hi_day = query.window(first_day, last_day)
    if query.desks <= 0 or day > hi_day:
        return
    tz, step, earliest = query.tz, query.step, query.earliest
    filters = _Filters(query)
    previous = -1 << 80  # earlier than any instant; guards order and uniqueness across days
    reuse_at, reuse = previous, query.now  # the last slot's end, often the next slot's start
    while day <= hi_day:
        ranges = query.ranges(day)
        for begin in _day_candidates(ranges, day, tz, step) if ranges else ():
            if begin < earliest or begin <= previous:
                continue
            previous = begin
            end = begin + step
            free = filters.free_desks(begin, end)
            if free > 0:
                start_at = reuse if begin == reuse_at else from_us(begin, tz)
                reuse_at, reuse = end, from_us(end, tz)
                yield Slot(start_at, reuse, free)
        day += _ONE_DAY


def offered_slots(
    query: SlotQuery, first_day: date | None = None, last_day: date | None = None
) -> list[Slot]:
    """Slots offered on local dates first_day..last_day within the horizon, sorted, UTC-unique."""
    return list(_offered(query, first_day, last_day))


def first_offered_slot(
    query: SlotQuery, first_day: date | None = None, last_day: date | None = None
) -> Slot | None:
    """The earliest offered slot, or None; stops at the first day that has one."""
    return next(_offered(query, first_day, last_day), None)


def offered_slot_at(query: SlotQuery, start: datetime) -> Slot | None:
    """The slot starting at `start` if it is offered, else None: one candidate checked,
    exactly as `offered_slots` would judge it, without computing the rest of the day."""
    begin = to_us(start)
    day = from_us(begin, query.tz).date()
    low, high = query.window(day, day)
    if query.desks <= 0 or low > high or begin < query.earliest:
        return None
    step = query.step
    on_grid = any(
        first <= begin <= last - step and (begin - first) % step == 0
        for first, last in (
            (local_us(query.tz, day, a), local_us(query.tz, day, b)) for a, b in query.ranges(day)
        )
    )
    free = _Filters(query).free_desks(begin, begin + step) if on_grid else 0
    if free <= 0:
        return None
    return Slot(from_us(begin, query.tz), from_us(begin + step, query.tz), free)


def within_opening_hours(
    hours: WeeklyHours, department: str, start: datetime, end: datetime
) -> bool:
    """Whether `[start, end)` lies inside one opening range of the local day it starts on."""
    tz = unit_timezone(department)
    begin, finish = to_us(start), to_us(end)
    day = from_us(begin, tz).date()
    return any(
        local_us(tz, day, a) <= begin and finish <= local_us(tz, day, b)
        for a, b in day_ranges(hours, department, day)
    )

"""Appointment slots a unit offers for a reason (product spec §3).

All arithmetic is done on integer microseconds since the Unix epoch (UTC): exact, cheap to
compare, and independent of the zones the caller's datetimes carry. Local wall times become
instants with `fold=0`, as zoneinfo does: a wall time inside a spring-forward gap uses the offset
in force before the gap, so it lands the length of the gap later (02:30 → 03:30 in Paris), and an
ambiguous wall time of a fall-back night is its first occurrence (summer time). A range whose end
instant is not after its start instant (one lying wholly in a gap) offers nothing.

Where §3 is silent: overlapping ranges of one day are each stepped from their own start, and
a start they share is offered once; closures and bookings with `end <= start` cover no instant;
`desks <= 0` offers nothing; naive datetimes, a non-positive duration and malformed hours raise
ValueError.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from booking.domain.hours import MINUTES_PER_DAY, PUBLIC_HOLIDAYS, WeeklyHours
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
    "WeeklyHours",
    "candidate_starts",
    "day_ranges",
    "first_offered_slot",
    "holiday_subdivision",
    "is_public_holiday",
    "local_today",
    "offered_slots",
    "unit_timezone",
]


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_US_PER_MINUTE: Final = 60_000_000
_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span `[start, end)` between aware datetimes of any zone."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """An offered slot, `start`/`end` in the unit's zone, with the number of free desks."""

    start: datetime
    end: datetime
    available: int


def _us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: an aware one is required")
    return (moment - _EPOCH) // _MICROSECOND


def _spans_us(intervals: Sequence[Interval]) -> list[tuple[int, int]]:
    """Non-empty intervals as (start, end) microseconds; empty ones cover no instant."""
    try:
        # Inlined conversion: with hundreds of bookings per call, a function call each adds up.
        spans = [
            ((i.start - _EPOCH) // _MICROSECOND, (i.end - _EPOCH) // _MICROSECOND)
            for i in intervals
        ]
    except TypeError as error:  # naive minus aware
        raise ValueError("closures and bookings need aware datetimes") from error
    return [(start, end) for start, end in spans if start < end]


@lru_cache(maxsize=1 << 16)
def _local_us(tz: ZoneInfo, day: date, minute: int) -> int:
    """Instant of local wall time `minute` after midnight of `day` (1440 = next midnight)."""
    # Wall-clock addition on an aware datetime keeps fold=0; the subtraction in _us then applies
    # zoneinfo's offset for that wall time, which is what moves gap times forward. Cached because
    # most units share a handful of zones, dates and opening times.
    return _us(datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute))


def _from_us(instant: int, tz: ZoneInfo) -> datetime:
    """Aware datetime in `tz` of an instant in microseconds since the epoch."""
    seconds, micro = divmod(instant, 1_000_000)
    # Grid instants are whole seconds (wall minutes, whole-second offsets): the fast exact path.
    moment = datetime.fromtimestamp(seconds, tz)
    return moment if not micro else moment + timedelta(microseconds=micro)


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


def _day_candidates(
    ranges: Sequence[tuple[int, int]], day: date, tz: ZoneInfo, step: int
) -> list[int]:
    """Sorted distinct candidate starts (µs) of one local day; slots never cross a range's end."""
    starts: list[int] = []
    for first, last in ranges:
        begin, end = _local_us(tz, day, first), _local_us(tz, day, last)
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
    step = duration_minutes * _US_PER_MINUTE
    ranges = day_ranges(hours, department, day)
    return [_from_us(start, tz) for start in _day_candidates(ranges, day, tz, step)]


def _merged(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Intervals merged into disjoint sorted spans, as parallel start and end lists."""
    starts: list[int] = []
    ends: list[int] = []
    for begin, end in sorted(spans):
        if ends and begin <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(begin)
            ends.append(end)
    return starts, ends


def _peak(starts: list[int], ends: list[int], begin: int, end: int, limit: int) -> int:
    """Most bookings in progress at one instant of `[begin, end)`, counting no higher than limit."""
    # In progress at t: started at or before t minus ended at or before t (sorted lists). The
    # count only rises at a booking start, so `begin` and the starts inside the slot suffice.
    first = bisect_right(starts, begin)
    busy = first - bisect_right(ends, begin)
    stop = bisect_left(starts, end, first)
    for index in range(first, stop):
        if busy >= limit:
            break
        moment = starts[index]
        busy = max(busy, bisect_right(starts, moment, index) - bisect_right(ends, moment))
    return min(busy, limit)


def _offered(
    *,
    hours: WeeklyHours,
    department: str,
    duration_minutes: int,
    desks: int,
    closures: Sequence[Interval],
    bookings: Sequence[Interval],
    now: datetime,
    first_day: date | None,
    last_day: date | None,
    min_notice: timedelta,
    horizon_days: int,
) -> Iterator[Slot]:
    """Offered slots in increasing start order, computed lazily one local day at a time."""
    _check_hours(hours)
    if duration_minutes <= 0:
        raise ValueError("duration_minutes must be positive")
    tz = unit_timezone(department)
    today = local_today(department, now)
    lo_day = today if first_day is None else max(first_day, today)
    hi_day = today + timedelta(days=horizon_days)
    if last_day is not None:
        hi_day = min(last_day, hi_day)
    if desks <= 0 or lo_day > hi_day:
        return
    step = duration_minutes * _US_PER_MINUTE
    earliest = _us(now) + min_notice // _MICROSECOND
    closure_starts, closure_ends = _merged(_spans_us(closures))
    spans = _spans_us(bookings)
    starts = sorted(start for start, _ in spans)
    ends = sorted(end for _, end in spans)
    previous = -1 << 80  # earlier than any instant; guards order and uniqueness across days
    reuse_at, reuse = previous, now  # the last slot's end, often the next slot's start
    day = lo_day
    while day <= hi_day:
        ranges = day_ranges(hours, department, day)
        for begin in _day_candidates(ranges, day, tz, step) if ranges else ():
            if begin < earliest or begin <= previous:
                continue
            previous = begin
            end = begin + step
            index = bisect_right(closure_ends, begin)
            if index < len(closure_starts) and closure_starts[index] < end:
                continue
            busy = _peak(starts, ends, begin, end, desks) if starts else 0
            if busy < desks:
                start_at = reuse if begin == reuse_at else _from_us(begin, tz)
                reuse_at, reuse = end, _from_us(end, tz)
                yield Slot(start_at, reuse, desks - busy)
        day += _ONE_DAY


def offered_slots(
    *,
    hours: WeeklyHours,
    department: str,
    duration_minutes: int,
    desks: int,
    closures: Sequence[Interval],
    bookings: Sequence[Interval],
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    min_notice: timedelta = timedelta(minutes=120),
    horizon_days: int = 28,
) -> list[Slot]:
    """Slots offered on local dates first_day..last_day within the horizon, sorted, UTC-unique."""
    return list(
        _offered(
            hours=hours,
            department=department,
            duration_minutes=duration_minutes,
            desks=desks,
            closures=closures,
            bookings=bookings,
            now=now,
            first_day=first_day,
            last_day=last_day,
            min_notice=min_notice,
            horizon_days=horizon_days,
        )
    )


def first_offered_slot(
    *,
    hours: WeeklyHours,
    department: str,
    duration_minutes: int,
    desks: int,
    closures: Sequence[Interval],
    bookings: Sequence[Interval],
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    min_notice: timedelta = timedelta(minutes=120),
    horizon_days: int = 28,
) -> Slot | None:
    """The earliest offered slot, or None; stops at the first day that has one."""
    return next(
        _offered(
            hours=hours,
            department=department,
            duration_minutes=duration_minutes,
            desks=desks,
            closures=closures,
            bookings=bookings,
            now=now,
            first_day=first_day,
            last_day=last_day,
            min_notice=min_notice,
            horizon_days=horizon_days,
        ),
        None,
    )

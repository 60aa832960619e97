"""Instants as integer microseconds since the Unix epoch (UTC): exact and cheap to compare.

Local wall times become instants with `fold=0`, as zoneinfo does: a wall time inside a
spring-forward gap uses the offset in force before the gap, so it lands the length of the
gap later (02:30 → 03:30 in Paris), and an ambiguous wall time of a fall-back night is its
first occurrence (summer time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND: Final = timedelta(microseconds=1)
US_PER_MINUTE: Final = 60_000_000


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span `[start, end)` between aware datetimes of any zone."""

    start: datetime
    end: datetime


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: an aware one is required")
    return (moment - EPOCH) // MICROSECOND


def spans_us(intervals: Sequence[Interval]) -> list[tuple[int, int]]:
    """Non-empty intervals as (start, end) microseconds; empty ones cover no instant."""
    try:
        # Inlined conversion: with hundreds of bookings per call, a function call each adds up.
        spans = [
            ((i.start - EPOCH) // MICROSECOND, (i.end - EPOCH) // MICROSECOND) for i in intervals
        ]
    except TypeError as error:  # naive minus aware
        raise ValueError("closures and bookings need aware datetimes") from error
    return [(start, end) for start, end in spans if start < end]


@lru_cache(maxsize=1 << 16)
def local_us(tz: ZoneInfo, day: date, minute: int) -> int:
    """Instant of local wall time `minute` after midnight of `day` (1440 = next midnight)."""
    # Wall-clock addition on an aware datetime keeps fold=0; the subtraction in to_us then
    # applies zoneinfo's offset for that wall time, which is what moves gap times forward.
    # Cached because most units share a handful of zones, dates and opening times.
    return to_us(datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute))


def from_us(instant: int, tz: ZoneInfo) -> datetime:
    """Aware datetime in `tz` of an instant in microseconds since the epoch."""
    seconds, micro = divmod(instant, 1_000_000)
    # Grid instants are whole seconds (wall minutes, whole-second offsets): the fast exact path.
    moment = datetime.fromtimestamp(seconds, tz)
    return moment if not micro else moment + timedelta(microseconds=micro)

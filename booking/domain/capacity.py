"""What holds a unit's capacity: the one rule of SPEC §3.5, in Python and in SQL.

A booking holds one seat of its unit's capacity at every instant of its span
`[starts_at, ends_at)` when it is confirmed, or when it is a hold (status `pending`: a
citizen confirming their email, a waiting-list offer) whose expiry is still to come. A
hold past its expiry holds nothing, whether or not the job runner has marked it `expired`
yet: the database's triggers and every read agree on it.

The rule is written twice and only twice: `holds_capacity` here, for what the code
predicts (slots, the staff's settings), and `holds_sql`, the same test in SQL, which the
database's triggers (booking/db_rules.py) and the services' reads use. One truth table
(tests/test_capacity_rule.py) runs against both, row for row.

A unit has two capacities (SPEC §12): its desks, for visits on site, and its remote lines,
for appointments by phone and by video together. Which capacity a booking draws on is said
here, once (`draws_on`, `draws_on_sql`): the rule counts, at each instant, the
bookings that draw on the same capacity as the one asked, against that capacity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from booking.domain.instants import to_us
from booking.domain.occupancy import Occupancy

CONFIRMED = "confirmed"
HELD = "pending"  # a hold: held until `hold_expires_at`, then nothing

# The modes of an appointment (SPEC §12) and the capacity each draws on.
ON_SITE, PHONE, VIDEO = "on_site", "phone", "video"
MODES = (ON_SITE, PHONE, VIDEO)
DESKS, LINES = "desks", "remote_lines"  # the unit's columns that hold each capacity

# The same test as `holds_capacity`, for a row of `bookings` named `row`, at the instant
# `now` (a bound parameter, or the database's own clock in the triggers). Never NULL: a
# hold without an expiry holds nothing, in an IF as in a WHERE.
_HOLDS_SQL = (
    "({row}.status = '" + CONFIRMED + "' OR ({row}.status = '" + HELD + "'"
    " AND coalesce({row}.hold_expires_at > {now}, false)))"
)


def holds_capacity(status: str, hold_expires_at: datetime | None, now: datetime) -> bool:
    """Whether a booking in this status holds its seat at `now`."""
    if status == CONFIRMED:
        return True
    return status == HELD and hold_expires_at is not None and hold_expires_at > now


def holds_sql(row: str, now: str) -> str:
    """`holds_capacity` in SQL, for the row `row` of `bookings`, at the SQL instant `now`."""
    return _HOLDS_SQL.format(row=row, now=now)


def draws_on(mode: str) -> str:
    """The unit's capacity a booking in this mode takes a seat of: DESKS or LINES."""
    return DESKS if mode == ON_SITE else LINES


def draws_on_sql(row: str) -> str:
    """`draws_on` in SQL, for the row `row` of `bookings`: 'desks' or 'remote_lines'."""
    return f"(CASE WHEN {row}.mode = '{ON_SITE}' THEN '{DESKS}' ELSE '{LINES}' END)"


def capacity_sql(row: str, unit: str) -> str:
    """The capacity the booking `row` draws on, read from the row `unit` of `units`."""
    return f"(CASE WHEN {row}.mode = '{ON_SITE}' THEN {unit}.{DESKS} ELSE {unit}.{LINES} END)"


@dataclass(frozen=True, slots=True)
class Held:
    """A booking as the rule sees it."""

    start: datetime
    end: datetime
    status: str = CONFIRMED
    hold_expires_at: datetime | None = None
    mode: str = ON_SITE


def holding(bookings: Iterable[Held], now: datetime, mode: str = ON_SITE) -> Occupancy:
    """The spans of the bookings that hold a seat of the capacity `mode` draws on at `now`,
    ready for peak queries."""
    drawn = draws_on(mode)
    return Occupancy(
        (to_us(b.start), to_us(b.end))
        for b in bookings
        if holds_capacity(b.status, b.hold_expires_at, now)
        and b.start < b.end
        and draws_on(b.mode) == drawn
    )


def fits(
    bookings: Iterable[Held],
    start: datetime,
    end: datetime,
    capacity: int,
    now: datetime,
    mode: str = ON_SITE,
) -> bool:
    """Whether one more booking in `mode` over `[start, end)` leaves, at every instant of
    it, no more bookings holding a seat of its capacity than `capacity` (the unit's desks
    or its remote lines): what the database's trigger decides."""
    begin, finish = to_us(start), to_us(end)
    return holding(bookings, now, mode).peak(begin, finish, capacity) < capacity

"""The one truth table of the capacity rule (booking.domain.capacity): which bookings hold
a seat at an instant, and whether one more fits, for each capacity (desks on site, remote
lines by phone and video together, SPEC §12). It runs, row for row, against the domain's
`fits` (tests/domain/test_capacity.py), and against the database's triggers on each engine
and the services' reads (tests/test_capacity_rule.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

# Far after the database's clock, so that only holds' expiries depend on "now".
BASE = datetime(2099, 12, 1, 8, 0, tzinfo=UTC)
LIVE, LAPSED, NO_EXPIRY = "live", "lapsed", "none"  # a hold's expiry against now


@dataclass(frozen=True)
class Existing:
    """A booking already there: start and length in minutes after BASE, status, and for a
    hold, whether its expiry is still to come."""

    start: int
    minutes: int
    status: str = "confirmed"
    hold: str = ""
    mode: str = "on_site"

    def expiry(self, now: datetime) -> datetime | None:
        """The hold's expiry against `now` (an hour either side), or None."""
        if self.hold == LIVE:
            return now + timedelta(hours=1)
        if self.hold == LAPSED:
            return now - timedelta(hours=1)
        return None


def at(minutes: int) -> datetime:
    """BASE plus some minutes."""
    return BASE + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Seats:
    """A unit's capacities."""

    desks: int
    lines: int = 0


@dataclass(frozen=True)
class Asked:
    """The booking asked: start and length in minutes after BASE, and its mode."""

    start: int
    minutes: int
    mode: str = "on_site"


def case(
    desks: int,
    existing: list[Existing],
    new: tuple[int, int],
    fits: bool,
    why: str,
    lines: int = 0,
    mode: str = "on_site",
) -> pytest.ParameterSet:
    """One row: `desks` desks and `lines` remote lines, the bookings there, the one asked
    (start, minutes) in `mode`."""
    return pytest.param(Seats(desks, lines), existing, Asked(*new, mode), fits, id=why)


C, P = "confirmed", "pending"
CASES = [
    case(1, [], (0, 30), True, "an empty unit"),
    case(1, [Existing(0, 60)], (30, 30), False, "inside a confirmed visit"),
    case(1, [Existing(0, 60)], (60, 30), True, "right after it: spans are half-open"),
    case(1, [Existing(30, 30)], (0, 30), True, "right before it"),
    case(1, [Existing(30, 30)], (0, 60), False, "covering it"),
    case(2, [Existing(0, 60), Existing(30, 30)], (45, 30), False, "both desks taken at 45"),
    case(2, [Existing(0, 30), Existing(30, 30)], (0, 60), True, "one at a time on each half"),
    case(2, [Existing(0, 60), Existing(60, 60)], (30, 60), True, "never two at once"),
    case(3, [Existing(0, 60), Existing(0, 60)], (15, 15), True, "a third desk free"),
    case(1, [Existing(0, 60, P, LIVE)], (0, 30), False, "a hold still to be confirmed"),
    case(1, [Existing(0, 60, P, LAPSED)], (0, 30), True, "a hold past its expiry, unmarked"),
    case(1, [Existing(0, 60, P, NO_EXPIRY)], (0, 30), True, "a hold with no expiry"),
    case(1, [Existing(0, 60, "expired")], (0, 30), True, "a hold marked expired"),
    case(1, [Existing(0, 60, "cancelled_by_citizen")], (0, 30), True, "cancelled by citizen"),
    case(1, [Existing(0, 60, "cancelled_by_unit")], (0, 30), True, "cancelled by the unit"),
    case(1, [Existing(0, 60, "honoured")], (0, 30), True, "an honoured visit"),
    case(1, [Existing(0, 60, "no_show")], (0, 30), True, "a missed visit"),
    case(
        2,
        [Existing(0, 60, P, LIVE), Existing(0, 60, P, LAPSED)],
        (0, 30),
        True,
        "a live hold and a lapsed one on two desks",
    ),
    case(
        2,
        [Existing(0, 60), Existing(30, 60, P, LIVE)],
        (45, 30),
        False,
        "a confirmed visit and a live hold on two desks",
    ),
    case(
        2,
        [Existing(0, 60), Existing(30, 60, P, LAPSED), Existing(30, 60, P, LAPSED)],
        (45, 30),
        True,
        "lapsed holds never add up",
    ),
    # Two capacities (SPEC §12): each mode counts against its own.
    case(1, [Existing(0, 60)], (0, 30), False, "no line: no phone appointment", 0, "phone"),
    case(1, [Existing(0, 60)], (0, 30), True, "a desk taken leaves the line free", 1, "phone"),
    case(1, [Existing(0, 60, mode="video")], (0, 30), True, "a line taken leaves the desk free", 1),
    case(
        1,
        [Existing(0, 60, mode="video")],
        (0, 30),
        False,
        "phone and video share the lines",
        1,
        "phone",
    ),
    case(
        1,
        [Existing(0, 60, mode="phone"), Existing(0, 60)],
        (30, 30),
        True,
        "two lines, one taken, whatever the desks",
        2,
        "video",
    ),
    case(
        2,
        [Existing(0, 60, P, LIVE, "phone")],
        (0, 30),
        False,
        "a live hold holds a line",
        1,
        "video",
    ),
    case(
        1,
        [Existing(0, 60, P, LAPSED, "phone")],
        (0, 30),
        True,
        "a lapsed hold holds no line",
        1,
        "phone",
    ),
]

"""Visits in progress at once (§3.5–3.6), the settings' desk check, and inside-hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.geo import distance_km
from booking.domain.instants import Interval
from booking.domain.occupancy import over_capacity
from booking.domain.slots import within_opening_hours

NINE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris, a Tuesday


def visit(start: int, minutes: int) -> Interval:
    """A visit starting `start` minutes after NINE."""
    return Interval(NINE + timedelta(minutes=start), NINE + timedelta(minutes=start + minutes))


@pytest.mark.parametrize(
    ("desks", "visits", "over"),
    [
        (1, [(0, 30), (0, 30)], [1]),  # the later booked of two at once loses
        (2, [(0, 30), (0, 30)], []),  # two desks: both fit
        (1, [(0, 60), (30, 60), (60, 30)], [1]),  # the middle one overlaps the first only
        (2, [(0, 60), (15, 30), (30, 60), (45, 15)], [2]),  # full at 30; free again at 45
        (1, [(0, 0), (0, 30)], []),  # an empty visit covers no instant
    ],
)
def test_over_capacity_keeps_the_oldest_booked(
    desks: int, visits: list[tuple[int, int]], over: list[int]
) -> None:
    assert over_capacity([visit(*v) for v in visits], desks) == over


OFFICE = {day: [(480, 720), (840, 1080)] for day in range(5)}


@pytest.mark.parametrize(
    ("start", "minutes", "inside"),
    [
        (0, 30, True),  # 09:00–09:30
        (150, 30, True),  # 11:30–12:00 ends with the range
        (165, 30, False),  # 11:45–12:15 crosses the range's end
        (-90, 30, False),  # 07:30, before opening
        (300, 60, True),  # 14:00–15:00
    ],
)
def test_within_opening_hours(start: int, minutes: int, inside: bool) -> None:
    slot = visit(start, minutes)
    assert within_opening_hours(OFFICE, "01", slot.start, slot.end) is inside


def test_within_opening_hours_on_a_holiday_uses_the_holiday_ranges() -> None:
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # a Friday, 10:00 in Paris
    end = christmas + timedelta(minutes=30)
    assert not within_opening_hours(OFFICE, "01", christmas, end)
    assert within_opening_hours({**OFFICE, 7: [(600, 720)]}, "01", christmas, end)


def test_distances_on_the_sphere() -> None:
    paris, lyon = (48.8566, 2.3522), (45.7640, 4.8357)
    assert distance_km(paris, lyon) == pytest.approx(392, abs=2)
    assert distance_km(paris, paris) == 0
    assert distance_km((0, 0), (0, 180)) == pytest.approx(20015, abs=1)

"""The rules of the public statistics (SPEC §14), as plain functions: which ISO week an
instant or a day falls in (Paris time), quantiles, when a count is masked, how a figure is
written in the open data.

Weeks are strings `2026-W48`: they sort as the weeks follow each other (the year first,
the week on two digits), in Python and in SQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

PARIS: Final = ZoneInfo("Europe/Paris")
MASK_BELOW: Final = 5  # a count under this, for one unit, is published as "< 5"
MASKED: Final = "< 5"

# The indicators of `weekly_figures`, in the order the open data's schema lists them.
INDICATORS: Final = (
    "bookings_by_channel",
    "bookings_by_mode",
    "visits_by_outcome",
    "no_show_rate",
    "lead_days_p50",
    "lead_days_p90",
    "first_slot_days",
    "emails_sent",
    "emails_retried",
    "emails_failed",
    "orientation_outcomes",
    "waitlist_offers_made",
    "waitlist_offers_accepted",
    "unit_bookings",
)
PER_UNIT: Final = "unit_bookings"  # the one indicator finer than a département


def day_week(day: date) -> str:
    """The ISO week of a date: `2026-W48`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def instant_week(instant: datetime) -> str:
    """The ISO week, in Paris time, of an aware instant: Monday 00:30 in Paris (Sunday
    23:30 UTC in winter, 22:30 in summer) opens the new week."""
    return day_week(instant.astimezone(PARIS).date())


class HourWeeks(dict[str, str]):
    """A UTC hour written `YYYY-MM-DD HH` → its ISO week in Paris, each hour worked out
    once. Paris is always a whole number of hours from UTC, so its weeks begin on a whole
    UTC hour and an hour lies in one Paris week: the database counts rows per UTC hour,
    without knowing Paris time, and the figures turn a few thousand hours into weeks."""

    def __missing__(self, hour: str) -> str:
        instant = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        week = self[hour] = instant_week(instant)
        return week


def paris_day(instant: datetime) -> date:
    """The date in Paris at an aware instant."""
    return instant.astimezone(PARIS).date()


def recent_weeks(today: date, count: int) -> list[str]:
    """The `count` ISO weeks ending with today's, oldest first."""
    return [day_week(today - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def week_start(week: str) -> datetime:
    """The instant an ISO week begins in Paris (Monday 00:00), in UTC."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return datetime.combine(monday, time(), PARIS).astimezone(UTC)


def quantile(ordered: Sequence[float], share: float) -> float:
    """The quantile `share` (0..1) of values sorted ascending, interpolated linearly
    between the two nearest ranks (as spreadsheets' PERCENTILE and numpy's default); the
    value itself when there is one. ValueError when there is none."""
    if not ordered:
        raise ValueError("no value")
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def is_masked(count: float) -> bool:
    """Whether a per-unit count is too small to publish (it could single out a person)."""
    return count < MASK_BELOW


def shown(value: float, masked: bool) -> str:
    """A figure as the open data writes it: `< 5` when masked, a whole number without a
    decimal point, otherwise the shortest decimal writing (`0.3`, `2.5`)."""
    if masked:
        return MASKED
    if float(value).is_integer():
        return str(int(value))
    return repr(round(value, 4))

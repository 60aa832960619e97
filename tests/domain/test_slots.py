"""Spec §3.3–3.6: which slots a unit offers for a reason, and how many desks each has free."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.domain import slots as slots_module
from booking.domain.slots import (
    PUBLIC_HOLIDAYS,
    Interval,
    Slot,
    SlotQuery,
    WeeklyHours,
    candidate_starts,
    first_offered_slot,
    is_public_holiday,
    offered_slot_at,
    offered_slots,
    unit_timezone,
)

PARIS = ZoneInfo("Europe/Paris")
ALL_DAY: WeeklyHours = {key: [(0, 1440)] for key in range(8)}
MORNING = [(8 * 60, 12 * 60)]
OFFICE: WeeklyHours = {key: [(8 * 60, 12 * 60), (14 * 60, 18 * 60)] for key in range(5)}
WEEKDAYS_MORNING: WeeklyHours = {key: MORNING for key in range(5)}
TUESDAY = date(2026, 6, 9)  # an ordinary Tuesday, summer time (UTC+2), no holiday near it


def query_of(kwargs: dict[str, Any]) -> tuple[SlotQuery, date | None, date | None]:
    """A SlotQuery from keyword arguments, and the first_day/last_day among them."""
    fields = {k: v for k, v in kwargs.items() if k not in {"first_day", "last_day"}}
    return SlotQuery(**fields), kwargs.get("first_day"), kwargs.get("last_day")


def offered(**kwargs: Any) -> list[Slot]:
    """offered_slots of the query the keyword arguments describe."""
    return offered_slots(*query_of(kwargs))


def first_slot(**kwargs: Any) -> Slot | None:
    """first_offered_slot of the query the keyword arguments describe."""
    return first_offered_slot(*query_of(kwargs))


def paris(day: date, clock: str) -> datetime:
    """Aware Paris datetime of a date and an `HH:MM` or `HH:MM:SS` wall time."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=PARIS)


def run(**overrides: Any) -> list[Slot]:
    """offered_slots with a Paris unit, office hours, 30-min reason, one desk, nothing booked."""
    kwargs: dict[str, Any] = {
        "hours": OFFICE,
        "department": "75",
        "duration_minutes": 30,
        "desks": 1,
        "closures": [],
        "bookings": [],
        "now": paris(TUESDAY - timedelta(days=1), "12:00"),
    }
    kwargs.update(overrides)
    return offered(**kwargs)


def clocks(found: Sequence[Slot], day: date | None = None) -> list[str]:
    """Local `HH:MM` starts of the slots (of one local date when given)."""
    return [s.start.strftime("%H:%M") for s in found if day is None or s.start.date() == day]


def one_day(day: date, **overrides: Any) -> list[Slot]:
    """Slots of a single local date, `now` being noon three days earlier in the unit's zone."""
    tz = unit_timezone(overrides.get("department", "75"))
    now = datetime.combine(day - timedelta(days=3), time(12), tzinfo=tz)
    return run(now=now, first_day=day, last_day=day, **overrides)


# --- §3.4 grid -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "duration", "expected"),
    [
        # back-to-back slots; the last one ends exactly at the range's end
        ([(480, 600)], 30, ["08:00", "08:30", "09:00", "09:30"]),
        # 09:30 would end at 10:00, after the 09:50 end: slots never cross a range's end
        ([(480, 590)], 30, ["08:00", "08:30", "09:00"]),
        # a range shorter than the reason: nothing
        ([(480, 500)], 30, []),
        # 09:00–10:00 would cross 09:30 even though the next range continues: not offered
        ([(480, 570), (570, 660)], 60, ["08:00", "09:30"]),
        # overlapping ranges: the shared 09:00 is offered once
        ([(480, 600), (540, 660)], 60, ["08:00", "09:00", "10:00"]),
        # ranges given out of order still give sorted slots
        ([(840, 1080), (480, 720)], 120, ["08:00", "10:00", "14:00", "16:00"]),
        # a grid that does not start on the hour keeps the range's phase
        ([(495, 600)], 45, ["08:15", "09:00"]),
        # 24:00 is the next midnight: the last slot ends there
        ([(1380, 1440)], 30, ["23:00", "23:30"]),
    ],
)
def test_grid_within_ranges(
    ranges: list[tuple[int, int]], duration: int, expected: list[str]
) -> None:
    found = one_day(TUESDAY, hours={TUESDAY.weekday(): ranges}, duration_minutes=duration)
    assert clocks(found) == expected
    assert all(s.end - s.start == timedelta(minutes=duration) for s in found)
    assert [s.start for s in found] == candidate_starts(
        hours={TUESDAY.weekday(): ranges}, department="75", duration_minutes=duration, day=TUESDAY
    )


# --- §3.3 holiday ranges ---------------------------------------------------------------------


WITH_HOLIDAY_HOURS: WeeklyHours = {**WEEKDAYS_MORNING, PUBLIC_HOLIDAYS: [(540, 600)]}
FOUR_MORNING_SLOTS = ["08:00", "09:00", "10:00", "11:00"]


@pytest.mark.parametrize(
    ("department", "day", "hours", "expected"),
    [
        # 1 May (Friday): the holiday ranges replace the weekday's
        ("75", date(2026, 5, 1), WITH_HOLIDAY_HOURS, ["09:00"]),
        # 1 May without holiday ranges: closed
        ("75", date(2026, 5, 1), WEEKDAYS_MORNING, []),
        # 1 May with an empty holiday entry: closed
        ("75", date(2026, 5, 1), {**WEEKDAYS_MORNING, PUBLIC_HOLIDAYS: []}, []),
        # the day before, an ordinary Thursday: weekday ranges
        ("75", date(2026, 4, 30), WITH_HOLIDAY_HOURS, FOUR_MORNING_SLOTS),
        # holiday ranges are not used on an ordinary Saturday without Saturday hours
        ("75", date(2026, 5, 2), WITH_HOLIDAY_HOURS, []),
        # Good Friday is a holiday in Moselle…
        ("57", date(2026, 4, 3), WITH_HOLIDAY_HOURS, ["09:00"]),
        # … but not in Paris
        ("75", date(2026, 4, 3), WITH_HOLIDAY_HOURS, FOUR_MORNING_SLOTS),
        # 26 December (Saturday) is a holiday in Alsace: Saturday hours do not apply
        ("67", date(2026, 12, 26), {5: MORNING}, []),
        # … and an ordinary Saturday in Paris
        ("75", date(2026, 12, 26), {5: MORNING}, FOUR_MORNING_SLOTS),
        # 27 May: abolition of slavery in Guadeloupe, not in Martinique
        ("971", date(2026, 5, 27), WITH_HOLIDAY_HOURS, ["09:00"]),
        ("972", date(2026, 5, 27), WITH_HOLIDAY_HOURS, FOUR_MORNING_SLOTS),
        # 24 September: Citizenship Day in New Caledonia
        ("988", date(2026, 9, 24), WITH_HOLIDAY_HOURS, ["09:00"]),
    ],
)
def test_holiday_ranges_replace_weekday_ranges(
    department: str, day: date, hours: WeeklyHours, expected: list[str]
) -> None:
    found = one_day(day, hours=hours, department=department, duration_minutes=60)
    assert clocks(found) == expected


# --- §3.5 minimum notice ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "notice", "first"),
    [
        # now + 2 h is exactly 09:00: 09:00 is offered
        (paris(TUESDAY, "07:00"), timedelta(minutes=120), "09:00"),
        # one second later, 09:00 starts one second too early
        (paris(TUESDAY, "07:00:01"), timedelta(minutes=120), "09:30"),
        # one second earlier, 09:00 is still the first
        (paris(TUESDAY, "06:59:59"), timedelta(minutes=120), "09:00"),
        # the same instant given in UTC
        (datetime(2026, 6, 9, 5, 0, tzinfo=UTC), timedelta(minutes=120), "09:00"),
        # no notice: a slot starting now is offered
        (paris(TUESDAY, "08:00"), timedelta(0), "08:00"),
        # a notice reaching into the afternoon
        (paris(TUESDAY, "08:00"), timedelta(hours=6), "14:00"),
    ],
)
def test_min_notice_boundary(now: datetime, notice: timedelta, first: str) -> None:
    found = run(now=now, min_notice=notice, last_day=TUESDAY)
    assert clocks(found)[0] == first
    assert all(s.start >= now + notice for s in found)
    slot = first_slot(
        hours=OFFICE,
        department="75",
        duration_minutes=30,
        desks=1,
        closures=[],
        bookings=[],
        now=now,
        min_notice=notice,
    )
    assert slot == found[0]


# --- §3.5 horizon and requested dates -------------------------------------------------------


@pytest.mark.parametrize(
    ("horizon", "first_day", "last_day", "expected_first", "expected_last"),
    [
        # day today+28 is offered, today+29 is not
        (28, None, None, date(2026, 6, 9), date(2026, 7, 7)),
        (28, None, date(2026, 7, 8), date(2026, 6, 9), date(2026, 7, 7)),
        # a horizon of 0: only today
        (0, None, None, date(2026, 6, 9), date(2026, 6, 9)),
        # first_day before today is clipped to today
        (28, date(2026, 6, 1), date(2026, 6, 10), date(2026, 6, 9), date(2026, 6, 10)),
        # an explicit window inside the horizon
        (28, date(2026, 6, 20), date(2026, 6, 21), date(2026, 6, 20), date(2026, 6, 21)),
        # last_day exactly on the horizon
        (7, date(2026, 6, 16), date(2026, 6, 16), date(2026, 6, 16), date(2026, 6, 16)),
    ],
)
def test_horizon_and_window(
    horizon: int,
    first_day: date | None,
    last_day: date | None,
    expected_first: date,
    expected_last: date,
) -> None:
    found = run(
        hours=ALL_DAY,
        duration_minutes=60,
        now=paris(TUESDAY, "00:00"),
        min_notice=timedelta(0),
        horizon_days=horizon,
        first_day=first_day,
        last_day=last_day,
    )
    days = sorted({s.start.date() for s in found})
    assert days[0] == expected_first
    assert days[-1] == expected_last
    assert len(days) == (expected_last - expected_first).days + 1


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (date(2026, 7, 8), None),  # starts after the horizon
        (None, date(2026, 6, 8)),  # ends before today
        (date(2026, 6, 12), date(2026, 6, 11)),  # empty window
    ],
)
def test_window_outside_horizon_is_empty(first_day: date | None, last_day: date | None) -> None:
    found = run(hours=ALL_DAY, now=paris(TUESDAY, "00:00"), first_day=first_day, last_day=last_day)
    assert found == []


# --- §3.5 closures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closures", "removed"),
    [
        # [09:00, 09:30): 08:30 ends when it starts and 09:30 starts when it ends: both offered
        ([(paris(TUESDAY, "09:00"), paris(TUESDAY, "09:30"))], {"09:00"}),
        # a closure inside a slot
        ([(paris(TUESDAY, "09:10"), paris(TUESDAY, "09:20"))], {"09:00"}),
        # one second of overlap is enough
        ([(paris(TUESDAY, "08:59:59"), paris(TUESDAY, "09:00"))], {"08:30"}),
        # the same closure given in UTC
        (
            [(datetime(2026, 6, 9, 7, 0, tzinfo=UTC), datetime(2026, 6, 9, 7, 30, tzinfo=UTC))],
            {"09:00"},
        ),
        # overlapping closures add up
        (
            [
                (paris(TUESDAY, "09:00"), paris(TUESDAY, "10:00")),
                (paris(TUESDAY, "09:30"), paris(TUESDAY, "10:30")),
            ],
            {"09:00", "09:30", "10:00"},
        ),
        # an empty closure covers nothing
        ([(paris(TUESDAY, "09:00"), paris(TUESDAY, "09:00"))], set()),
        # a closure of the whole morning
        (
            [(paris(TUESDAY, "00:00"), paris(TUESDAY, "13:00"))],
            {"08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"},
        ),
    ],
)
def test_closures(closures: list[tuple[datetime, datetime]], removed: set[str]) -> None:
    intervals = [Interval(start, end) for start, end in closures]
    grid = clocks(one_day(TUESDAY, hours=WEEKDAYS_MORNING))
    found = clocks(one_day(TUESDAY, hours=WEEKDAYS_MORNING, closures=intervals))
    assert found == [clock for clock in grid if clock not in removed]


# --- §3.5–3.6 desks and bookings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("desks", "bookings", "expected"),
    [
        # one desk, one booking: that slot is gone
        (1, [("09:00", "09:30")], {"09:00": None}),
        # 2 desks, a 60-min and a 30-min booking overlapping: both desks taken 09:15–09:45
        (2, [("09:00", "10:00"), ("09:15", "09:45")], {"09:00": None, "09:30": None}),
        # 2 desks, partial overlap 09:45–10:00 only: the slots around it keep one desk
        (
            2,
            [("09:00", "10:00"), ("09:45", "10:15")],
            {"09:00": 1, "09:30": None, "10:00": 1},
        ),
        # bookings one after the other inside a slot never add up
        (2, [("08:50", "09:10"), ("09:20", "09:40")], {"08:30": 1, "09:00": 1, "09:30": 1}),
        # 3 desks all taken
        (3, [("09:00", "10:00")] * 3, {"09:00": None, "09:30": None}),
        # 3 desks, peak of 2 then 1
        (3, [("09:00", "10:00"), ("09:00", "09:30")], {"09:00": 1, "09:30": 2}),
        # touching bookings do not overlap the slot they touch
        (
            2,
            [("08:00", "09:00"), ("09:00", "09:40")],
            {"08:00": 1, "08:30": 1, "09:00": 1, "09:30": 1},
        ),
        # a booking before opening changes nothing
        (1, [("07:00", "08:00")], {}),
    ],
)
def test_desks_and_bookings(
    desks: int, bookings: list[tuple[str, str]], expected: dict[str, int | None]
) -> None:
    intervals = [Interval(paris(TUESDAY, a), paris(TUESDAY, b)) for a, b in bookings]
    found = one_day(TUESDAY, hours=WEEKDAYS_MORNING, desks=desks, bookings=intervals)
    available = {s.start.strftime("%H:%M"): s.available for s in found}
    for clock in ("08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"):
        assert available.get(clock) == expected.get(clock, desks), clock


def test_bookings_in_another_zone_and_no_desk() -> None:
    booked = [
        Interval(datetime(2026, 6, 9, 7, 0, tzinfo=UTC), datetime(2026, 6, 9, 7, 30, tzinfo=UTC))
    ]
    assert "09:00" not in clocks(one_day(TUESDAY, hours=WEEKDAYS_MORNING, bookings=booked))
    assert one_day(TUESDAY, hours=WEEKDAYS_MORNING, desks=0) == []


def test_slot_shape() -> None:
    slot = one_day(TUESDAY, hours=WEEKDAYS_MORNING)[0]
    assert slot == Slot(paris(TUESDAY, "08:00"), paris(TUESDAY, "08:30"), 1)
    assert slot.start.tzinfo == PARIS
    assert slot.start.isoformat() == "2026-06-09T08:00:00+02:00"
    assert slot.end.isoformat() == "2026-06-09T08:30:00+02:00"


@pytest.mark.parametrize(
    "overrides",
    [
        {"now": datetime(2026, 6, 9, 12, 0)},  # naive now
        {"duration_minutes": 0},  # no duration
        {"hours": {0: [(600, 600)]}},  # empty range
        {"hours": {0: [(0, 1441)]}},  # past 24:00
        {"hours": {8: [(0, 60)]}},  # unknown day key
        {"bookings": [Interval(datetime(2026, 6, 9, 9), datetime(2026, 6, 9, 10))]},  # naive
    ],
)
def test_invalid_arguments(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages, one contract
        run(**overrides)


def test_first_offered_slot_stops_at_first_day(monkeypatch: pytest.MonkeyPatch) -> None:
    visited: list[date] = []
    real = slots_module.day_ranges

    def counting(hours: WeeklyHours, department: str, day: date) -> Sequence[tuple[int, int]]:
        visited.append(day)
        return real(hours, department, day)

    monkeypatch.setattr(slots_module, "day_ranges", counting)
    now = paris(TUESDAY, "07:00")
    kwargs: dict[str, Any] = {
        "hours": OFFICE,
        "department": "75",
        "duration_minutes": 30,
        "desks": 1,
        "closures": [],
        "bookings": [],
        "now": now,
    }
    slot = first_slot(**kwargs)
    assert slot is not None
    assert slot.start == paris(TUESDAY, "09:00")
    assert visited == [TUESDAY]
    visited.clear()
    assert offered(**kwargs)[0] == slot
    assert len(visited) == 29
    full = Interval(now, now + timedelta(days=40))
    assert first_slot(**{**kwargs, "closures": [full]}) is None


# --- §3.4 daylight saving time ---------------------------------------------------------------


def utc_starts(found: Sequence[Slot]) -> list[datetime]:
    """Slot starts as UTC datetimes."""
    return [s.start.astimezone(UTC) for s in found]


def wall_time_exists(moment: datetime) -> bool:
    """Whether the local wall time of an aware datetime is one the zone's clocks show."""
    wall = moment.replace(tzinfo=None)
    zone = moment.tzinfo
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@pytest.mark.parametrize(
    ("department", "day", "count", "offsets"),
    [
        # Paris spring forward: 23 hours, 02:00–03:00 does not exist
        ("75", date(2026, 3, 29), 23, {"+01:00": 2, "+02:00": 21}),
        # Paris fall back: 25 hours, 02:00–03:00 happens twice
        ("75", date(2026, 10, 25), 25, {"+02:00": 3, "+01:00": 22}),
        # ordinary days either side
        ("75", date(2026, 3, 28), 24, {"+01:00": 24}),
        ("75", date(2026, 10, 26), 24, {"+01:00": 24}),
        # Saint-Pierre-et-Miquelon follows the North American dates: 8 March, 1 November
        ("975", date(2026, 3, 8), 23, {"-03:00": 2, "-02:00": 21}),
        ("975", date(2026, 11, 1), 25, {"-02:00": 2, "-03:00": 23}),
        # no DST overseas elsewhere
        ("974", date(2026, 3, 29), 24, {"+04:00": 24}),
    ],
)
def test_all_day_unit_on_dst_days(
    department: str, day: date, count: int, offsets: dict[str, int]
) -> None:
    found = one_day(day, hours=ALL_DAY, duration_minutes=60, department=department)
    starts = utc_starts(found)
    assert len(found) == count
    assert len(set(starts)) == count
    assert starts == sorted(starts)
    assert all(b - a == timedelta(hours=1) for a, b in zip(starts, starts[1:], strict=False))
    assert all(wall_time_exists(s.start) for s in found)
    seen: dict[str, int] = {}
    for s in found:
        seen[s.start.isoformat()[-6:]] = seen.get(s.start.isoformat()[-6:], 0) + 1
    assert seen == offsets
    grid = candidate_starts(hours=ALL_DAY, department=department, duration_minutes=60, day=day)
    assert grid == [s.start for s in found]


def test_no_slot_in_the_paris_gap() -> None:
    found = one_day(date(2026, 3, 29), hours=ALL_DAY, duration_minutes=15)
    assert len(found) == 23 * 4
    assert not [s for s in found if s.start.hour == 2]
    assert wall_time_exists(paris(date(2026, 3, 29), "03:00"))
    assert not wall_time_exists(paris(date(2026, 3, 29), "02:30"))


@pytest.mark.parametrize(
    ("monday", "count"),
    [
        (date(2026, 3, 23), 6 * 24 + 23),  # week ending with the spring-forward Sunday
        (date(2026, 10, 19), 6 * 24 + 25),  # week ending with the fall-back Sunday
    ],
)
def test_dst_weeks(monday: date, count: int) -> None:
    now = paris(monday - timedelta(days=1), "12:00")
    found = run(
        hours=ALL_DAY,
        duration_minutes=60,
        now=now,
        first_day=monday,
        last_day=monday + timedelta(days=6),
    )
    starts = utc_starts(found)
    assert len(found) == count
    assert len(set(starts)) == count
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("day", "ranges", "duration", "expected"),
    [
        # 02:30 does not exist on 29 March: the range starts at 03:30 and still ends at 05:00
        (date(2026, 3, 29), [(150, 300)], 30, ["03:30+02:00", "04:00+02:00", "04:30+02:00"]),
        (date(2026, 3, 29), [(150, 300)], 60, ["03:30+02:00"]),
        # a range lying wholly in the gap has no instant at all
        (date(2026, 3, 29), [(120, 180)], 30, []),
        # a range across the gap lasts an hour less
        (date(2026, 3, 29), [(60, 240)], 60, ["01:00+01:00", "03:00+02:00"]),
        # 02:30 on 25 October is its first occurrence (summer time); steps are absolute
        (date(2026, 10, 25), [(150, 240)], 60, ["02:30+02:00", "02:30+01:00"]),
    ],
)
def test_ranges_around_dst_transitions(
    day: date, ranges: list[tuple[int, int]], duration: int, expected: list[str]
) -> None:
    found = one_day(day, hours={6: ranges}, duration_minutes=duration)
    assert [s.start.isoformat(timespec="minutes")[11:] for s in found] == expected


# --- overseas units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "now", "today", "offset"),
    [
        # Réunion, UTC+4: already 11 June locally
        ("974", datetime(2026, 6, 10, 21, 30, tzinfo=UTC), date(2026, 6, 11), "+04:00"),
        # Guadeloupe, UTC−4: still 10 June locally
        ("971", datetime(2026, 6, 11, 2, 0, tzinfo=UTC), date(2026, 6, 10), "-04:00"),
        # Nouméa, UTC+11: already 11 June locally
        ("988", datetime(2026, 6, 10, 14, 0, tzinfo=UTC), date(2026, 6, 11), "+11:00"),
        # Tahiti, UTC−10: still 10 June locally
        ("987", datetime(2026, 6, 11, 8, 0, tzinfo=UTC), date(2026, 6, 10), "-10:00"),
    ],
)
def test_overseas_local_today_and_offsets(
    department: str, now: datetime, today: date, offset: str
) -> None:
    found = run(
        hours=ALL_DAY, department=department, duration_minutes=60, now=now, min_notice=timedelta(0)
    )
    assert now.date() != today
    assert {s.start.isoformat()[-6:] for s in found} == {offset}
    assert found[0].start.date() == today
    assert found[0].start >= now
    assert found[-1].start.date() == today + timedelta(days=28)
    assert found[0] == first_slot(
        hours=ALL_DAY,
        department=department,
        duration_minutes=60,
        desks=1,
        closures=[],
        bookings=[],
        now=now,
        min_notice=timedelta(0),
    )


@pytest.mark.parametrize(
    ("department", "holiday"),
    [
        ("974", date(2026, 12, 20)),  # Réunion: abolition of slavery
        ("971", date(2026, 5, 27)),  # Guadeloupe: abolition of slavery
        ("972", date(2026, 5, 22)),  # Martinique: abolition of slavery
        ("973", date(2026, 6, 10)),  # Guyane: abolition of slavery
        ("976", date(2026, 4, 27)),  # Mayotte: abolition of slavery
        ("988", date(2026, 9, 24)),  # Nouvelle-Calédonie: Citizenship Day
        ("987", date(2026, 11, 20)),  # Polynésie française: Matāri'i
    ],
)
def test_overseas_holidays_follow_the_local_date(department: str, holiday: date) -> None:
    hours = {key: [(0, 1440)] for key in range(7)}
    tz = unit_timezone(department)
    now = datetime.combine(holiday - timedelta(days=2), time(12), tzinfo=tz)
    found = run(hours=hours, department=department, duration_minutes=60, now=now)
    per_day = {
        d: len(clocks(found, d))
        for d in (holiday - timedelta(days=1), holiday, holiday + timedelta(days=1))
    }
    assert per_day == {holiday - timedelta(days=1): 24, holiday: 0, holiday + timedelta(days=1): 24}
    # the holiday's UTC date differs from the local one for part of the local day
    assert any(
        s.start.astimezone(UTC).date() == holiday for s in found if s.start.date() != holiday
    )


# --- properties ------------------------------------------------------------------------------


DEPARTMENTS = ["75", "57", "67", "2A", "971", "974", "975", "987", "988"]


@st.composite
def ranges_strategy(draw: st.DrawFn) -> tuple[int, int]:
    """A valid opening range, often on quarter hours."""
    grain = draw(st.sampled_from([1, 15, 30]))
    start = draw(st.integers(0, 1439 // grain)) * grain
    end = draw(st.integers(start // grain + 1, 1440 // grain)) * grain
    return (start, end)


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[int, list[tuple[int, int]]]:
    """Weekly hours with most days open; a missing key and an empty list both mean closed."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for key in range(8):
        state = draw(st.integers(0, 4))
        if state == 1:
            hours[key] = []
        elif state > 1:
            hours[key] = draw(st.lists(ranges_strategy(), min_size=1, max_size=3))
    return hours


NOW = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    # the weeks before Paris's and Miquelon's 2026 transitions
    st.datetimes(datetime(2026, 3, 22), datetime(2026, 3, 29, 12), timezones=st.just(UTC)),
    st.datetimes(datetime(2026, 10, 18), datetime(2026, 10, 25, 12), timezones=st.just(UTC)),
    st.datetimes(datetime(2026, 3, 1), datetime(2026, 3, 8, 12), timezones=st.just(UTC)),
    st.datetimes(datetime(2026, 10, 25), datetime(2026, 11, 1, 12), timezones=st.just(UTC)),
)
ZONES = st.sampled_from([UTC, PARIS, timezone(timedelta(hours=-5)), ZoneInfo("Pacific/Noumea")])


def spans(minutes_from: int, minutes_to: int, longest: int, most: int) -> st.SearchStrategy[Any]:
    """Lists of (offset seconds from now, length seconds, zone) for intervals around now."""
    span = st.tuples(
        # snapped offsets make bookings start together, so that desks fill up
        st.integers(minutes_from * 60, minutes_to * 60)
        | st.integers(minutes_from // 30, minutes_to // 30).map(lambda k: k * 1800),
        st.integers(0, longest * 60),
        ZONES,
    )
    # A drawn size rather than st.lists' own, which favours very short lists.
    return st.integers(0, most).flatmap(lambda n: st.lists(span, min_size=n, max_size=n))


def intervals(now: datetime, raw: list[tuple[int, int, Any]]) -> list[Interval]:
    """Intervals from spans drawn relative to now, expressed in the drawn zones."""
    out = []
    for offset, length, zone in raw:
        # Offsets are added in UTC: aware arithmetic in a zone is wall-clock arithmetic.
        start = now.astimezone(UTC) + timedelta(seconds=offset)
        end = start + timedelta(seconds=length)
        out.append(Interval(start.astimezone(zone), end.astimezone(zone)))
    return out


def in_utc(spans: Sequence[Interval]) -> list[Interval]:
    """The same intervals in UTC: within one zone, Python compares wall times and ignores fold."""
    return [Interval(span.start.astimezone(UTC), span.end.astimezone(UTC)) for span in spans]


def day_range_bounds(
    hours: WeeklyHours, department: str, day: date
) -> list[tuple[datetime, datetime]]:
    """UTC bounds of each range of a local date, computed with plain datetime arithmetic."""
    tz = unit_timezone(department)
    key = PUBLIC_HOLIDAYS if is_public_holiday(department, day) else day.weekday()
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return [
        (
            (midnight + timedelta(minutes=a)).astimezone(UTC),
            (midnight + timedelta(minutes=b)).astimezone(UTC),
        )
        for a, b in hours.get(key, [])
    ]


def overlaps(span: Interval, start: datetime, end: datetime) -> bool:
    """Whether [span.start, span.end) and [start, end) share an instant (empty spans share none)."""
    return span.start < span.end and span.start < end and start < span.end


def peak(bookings: Sequence[Interval], start: datetime, end: datetime) -> int:
    """Naive maximum of bookings in progress over [start, end): check every booking start."""
    instants = [start] + [b.start for b in bookings if start < b.start < end]
    return max(sum(1 for b in bookings if b.start <= t < b.end) for t in instants)


def reference(
    *,
    hours: WeeklyHours,
    department: str,
    duration: int,
    desks: int,
    closures: Sequence[Interval],
    bookings: Sequence[Interval],
    now: datetime,
    notice: timedelta,
    horizon: int,
    first_day: date | None,
    last_day: date | None,
) -> list[tuple[datetime, int]]:
    """A slow, direct reading of §3 used as an oracle."""
    closures, bookings = in_utc(closures), in_utc(bookings)
    today = now.astimezone(unit_timezone(department)).date()
    day = max(first_day or today, today)
    stop = min(last_day or date.max, today + timedelta(days=horizon))
    step = timedelta(minutes=duration)
    found: dict[datetime, int] = {}
    while day <= stop:
        for begin, end in day_range_bounds(hours, department, day):
            start = begin
            while start + step <= end:
                busy = peak(bookings, start, start + step)
                if (
                    start >= now + notice
                    and not any(overlaps(c, start, start + step) for c in closures)
                    and busy < desks
                ):
                    found[start] = desks - busy
                start += step
        day += timedelta(days=1)
    return sorted(found.items())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=weekly_hours(),
    department=st.sampled_from(DEPARTMENTS),
    duration=st.sampled_from(range(15, 121, 15)),
    desks=st.integers(1, 4),
    now=NOW,
    raw_bookings=spans(-120, 2 * 1440, 240, 40),
    raw_closures=spans(-1440, 10 * 1440, 2 * 1440, 3),
    notice_minutes=st.sampled_from([0, 30, 120, 120, 1440]),
    horizon=st.sampled_from([0, 1, 7, 28, 28, 28]),
    window=st.just((None, None))
    | st.tuples(st.none() | st.integers(-2, 10), st.none() | st.integers(5, 30)),
)
def test_properties(
    hours: WeeklyHours,
    department: str,
    duration: int,
    desks: int,
    now: datetime,
    raw_bookings: list[tuple[int, int, Any]],
    raw_closures: list[tuple[int, int, Any]],
    notice_minutes: int,
    horizon: int,
    window: tuple[int | None, int | None],
) -> None:
    tz = unit_timezone(department)
    today = now.astimezone(tz).date()
    first_day, last_day = (None if w is None else today + timedelta(days=w) for w in window)
    bookings = intervals(now, raw_bookings)
    closures = intervals(now, raw_closures)
    notice = timedelta(minutes=notice_minutes)
    kwargs: dict[str, Any] = {
        "hours": hours,
        "department": department,
        "duration_minutes": duration,
        "desks": desks,
        "closures": closures,
        "bookings": bookings,
        "now": now,
        "first_day": first_day,
        "last_day": last_day,
        "min_notice": notice,
        "horizon_days": horizon,
    }
    found = offered(**kwargs)
    step = timedelta(minutes=duration)
    starts = utc_starts(found)
    assert starts == sorted(set(starts))  # sorted, unique in UTC
    for slot in found:
        start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
        local = slot.start.date()
        assert slot.start.tzinfo == tz
        assert end - start == step
        # inside a range of its local day, on the range's grid
        assert any(
            a <= start and end <= b and (start - a) % step == timedelta(0)
            for a, b in day_range_bounds(hours, department, local)
        )
        assert wall_time_exists(slot.start)  # never a wall time that the zone skips
        assert not is_public_holiday(department, local) or hours.get(PUBLIC_HOLIDAYS)
        assert start >= now + notice
        assert today <= local <= today + timedelta(days=horizon)
        assert first_day is None or local >= first_day
        assert last_day is None or local <= last_day
        assert not any(overlaps(c, start, end) for c in in_utc(closures))
        assert slot.available == desks - peak(in_utc(bookings), start, end)
        assert 1 <= slot.available <= desks
    earliest = first_slot(**kwargs)
    assert earliest == (found[0] if found else None)
    # One start checked alone is judged exactly as the whole list judges it.
    query = query_of(kwargs)[0]
    assert all(offered_slot_at(query, slot.start) == slot for slot in found)
    offered_starts = {slot.start for slot in found}
    low = max(first_day or today, today)
    high = min(last_day or today + timedelta(days=horizon), today + timedelta(days=horizon))
    for local in {slot.start.date() for slot in found} | ({low} if low <= high else set()):
        grid = candidate_starts(
            hours=hours, department=department, duration_minutes=duration, day=local
        )
        assert all(offered_slot_at(query, s) is None for s in grid if s not in offered_starts)
    oracle = reference(
        hours=hours,
        department=department,
        duration=duration,
        desks=desks,
        closures=closures,
        bookings=bookings,
        now=now,
        notice=notice,
        horizon=horizon,
        first_day=first_day,
        last_day=last_day,
    )
    assert [(s.start.astimezone(UTC), s.available) for s in found] == oracle

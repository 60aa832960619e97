"""How long a hold lasts: offers made at night are held until 10:00 in the unit's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from booking.domain.holds import hold_until, is_night

PARIS, NOUMEA, TAHITI = (
    ZoneInfo("Europe/Paris"),
    ZoneInfo("Pacific/Noumea"),
    ZoneInfo("Pacific/Tahiti"),
)


@pytest.mark.parametrize(
    ("zone", "made", "until"),
    [
        (PARIS, (2026, 12, 8, 1, 4), (2026, 12, 8, 10, 0)),  # freed at 01:04: held until 10:00
        (PARIS, (2026, 12, 8, 21, 0), (2026, 12, 9, 10, 0)),  # 21:00: the next morning
        (PARIS, (2026, 12, 8, 20, 59), (2026, 12, 8, 21, 29)),  # still the evening: 30 minutes
        (PARIS, (2026, 12, 8, 7, 59), (2026, 12, 8, 10, 0)),  # the last minute of the night
        (PARIS, (2026, 12, 8, 8, 0), (2026, 12, 8, 8, 30)),  # the day begins
        (PARIS, (2026, 12, 8, 9, 45), (2026, 12, 8, 10, 15)),  # daytime: the usual half hour
        (PARIS, (2026, 3, 29, 1, 30), (2026, 3, 29, 10, 0)),  # the night clocks go forward
        (PARIS, (2026, 10, 25, 2, 30), (2026, 10, 25, 10, 0)),  # the night they go back
        (NOUMEA, (2026, 12, 8, 1, 4), (2026, 12, 8, 10, 0)),  # overseas: its own night
        (TAHITI, (2026, 12, 8, 23, 15), (2026, 12, 9, 10, 0)),
    ],
)
def test_a_hold_made_at_night_lasts_until_ten_local_time(
    zone: ZoneInfo, made: tuple[int, ...], until: tuple[int, ...]
) -> None:
    made_at = datetime(*made, tzinfo=zone)
    assert hold_until(made_at, zone, 30) == datetime(*until, tzinfo=zone)


def test_a_hold_is_never_shorter_than_the_setting() -> None:
    made_at = datetime(2026, 12, 8, 7, 30, tzinfo=PARIS)  # night, but 10:00 is sooner
    assert hold_until(made_at, PARIS, 180) == datetime(2026, 12, 8, 10, 30, tzinfo=PARIS)


def test_the_night_is_the_unit_s_own() -> None:
    instant = datetime(2026, 12, 8, 14, 0, tzinfo=PARIS)  # 14:00 in Paris, 00:00 in Nouméa
    assert not is_night(instant, PARIS)
    assert is_night(instant, NOUMEA)

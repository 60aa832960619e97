"""Spec §3.1–3.2: time zone and public holidays of a unit from its département code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
from holidays.countries.france import France

from booking.domain import zones
from booking.domain.zones import (
    holiday_dates,
    holiday_subdivision,
    is_public_holiday,
    local_today,
    unit_timezone,
)


@pytest.mark.parametrize(
    ("department", "key"),
    [
        ("971", "America/Guadeloupe"),  # Guadeloupe
        ("972", "America/Martinique"),  # Martinique
        ("973", "America/Cayenne"),  # Guyane
        ("974", "Indian/Reunion"),  # La Réunion
        ("975", "America/Miquelon"),  # Saint-Pierre-et-Miquelon
        ("976", "Indian/Mayotte"),  # Mayotte
        ("977", "America/St_Barthelemy"),  # Saint-Barthélemy
        ("978", "America/Marigot"),  # Saint-Martin
        ("986", "Pacific/Wallis"),  # Wallis-et-Futuna
        ("987", "Pacific/Tahiti"),  # Polynésie française
        ("988", "Pacific/Noumea"),  # Nouvelle-Calédonie
        ("2A", "Europe/Paris"),  # Corse-du-Sud: metropolitan
        ("2B", "Europe/Paris"),  # Haute-Corse: metropolitan
        ("2a", "Europe/Paris"),  # lower-case spelling is normalised
        ("57", "Europe/Paris"),  # Moselle: own holidays, Paris time
        ("01", "Europe/Paris"),  # first metropolitan code
        ("95", "Europe/Paris"),  # last metropolitan code
        (" 974 ", "Indian/Reunion"),  # surrounding blanks are ignored
        ("999", "Europe/Paris"),  # unknown code: every other département is on Paris time
    ],
)
def test_unit_timezone(department: str, key: str) -> None:
    assert unit_timezone(department) == ZoneInfo(key)


@pytest.mark.parametrize(
    ("department", "subdivision"),
    [
        ("57", "57"),  # Moselle
        ("67", "6AE"),  # Bas-Rhin: Alsace
        ("68", "6AE"),  # Haut-Rhin: Alsace
        ("971", "971"),  # Guadeloupe
        ("972", "972"),  # Martinique
        ("973", "973"),  # Guyane
        ("974", "974"),  # La Réunion
        ("975", "PM"),  # Saint-Pierre-et-Miquelon
        ("976", "976"),  # Mayotte
        ("977", "BL"),  # Saint-Barthélemy
        ("978", "MF"),  # Saint-Martin
        ("986", "WF"),  # Wallis-et-Futuna
        ("987", "PF"),  # Polynésie française
        ("988", "NC"),  # Nouvelle-Calédonie
        ("75", None),  # Paris: national list
        ("2A", None),  # Corse: national list
        ("54", None),  # Meurthe-et-Moselle: not Moselle
    ],
)
def test_holiday_subdivision(department: str, subdivision: str | None) -> None:
    assert holiday_subdivision(department) == subdivision
    # Every code used must be one the holidays package knows, else it would raise at run time.
    assert subdivision is None or subdivision in France.subdivisions


@pytest.mark.parametrize(
    ("department", "day", "expected"),
    [
        ("75", date(2026, 12, 25), True),  # Christmas: national
        ("75", date(2026, 12, 26), False),  # Saint-Étienne: not in the national list
        ("67", date(2026, 12, 26), True),  # Saint-Étienne: Alsace
        ("68", date(2026, 12, 26), True),  # Saint-Étienne: Alsace
        ("57", date(2026, 12, 26), True),  # Saint-Étienne: Moselle
        ("75", date(2026, 4, 3), False),  # Good Friday: not national
        ("57", date(2026, 4, 3), True),  # Good Friday: Moselle
        ("67", date(2026, 4, 3), True),  # Good Friday: Alsace
        ("2A", date(2026, 4, 6), True),  # Easter Monday: national, Corse too
        ("971", date(2026, 5, 27), True),  # abolition of slavery: Guadeloupe 27 May
        ("972", date(2026, 5, 27), False),  # … not Martinique's date
        ("972", date(2026, 5, 22), True),  # abolition of slavery: Martinique 22 May
        ("973", date(2026, 6, 10), True),  # abolition of slavery: Guyane 10 June
        ("974", date(2026, 12, 20), True),  # abolition of slavery: La Réunion 20 December
        ("976", date(2026, 4, 27), True),  # abolition of slavery: Mayotte 27 April
        ("977", date(2026, 10, 9), True),  # abolition of slavery: Saint-Barthélemy 9 October
        ("978", date(2026, 5, 28), True),  # abolition of slavery: Saint-Martin 28 May
        ("986", date(2026, 7, 29), True),  # Territory Day: Wallis-et-Futuna
        ("987", date(2026, 11, 20), True),  # Matāri'i: Polynésie française
        ("988", date(2026, 9, 24), True),  # Citizenship Day: Nouvelle-Calédonie
        ("75", date(2026, 9, 24), False),  # … not in metropolitan France
        ("975", date(2026, 12, 25), True),  # Christmas: Saint-Pierre-et-Miquelon
        ("75", date(2026, 3, 10), False),  # an ordinary Tuesday
    ],
)
def test_is_public_holiday(department: str, day: date, expected: bool) -> None:
    assert is_public_holiday(department, day) is expected


def test_holiday_sets_are_built_once_per_subdivision_and_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zones._holiday_dates.cache_clear()
    calls: list[tuple[str | None, int]] = []
    real = holidays.country_holidays

    def counting(country: str, subdiv: str | None = None, years: int = 0) -> holidays.HolidayBase:
        calls.append((subdiv, years))
        return real(country, subdiv=subdiv, years=years)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    for _ in range(3):
        is_public_holiday("67", date(2026, 12, 26))
        is_public_holiday("68", date(2026, 1, 1))  # same subdivision and year as 67
        is_public_holiday("75", date(2027, 1, 1))
    assert calls == [("6AE", 2026), (None, 2027)]
    zones._holiday_dates.cache_clear()


def test_holiday_dates_of_a_year() -> None:
    assert date(2026, 12, 26) in holiday_dates("57", 2026)
    assert date(2026, 12, 26) not in holiday_dates("75", 2026)
    assert len(holiday_dates("75", 2026)) == 11


@pytest.mark.parametrize(
    ("department", "now", "expected"),
    [
        ("974", datetime(2026, 6, 10, 21, 30, tzinfo=UTC), date(2026, 6, 11)),  # UTC+4: ahead
        ("971", datetime(2026, 6, 11, 2, 0, tzinfo=UTC), date(2026, 6, 10)),  # UTC−4: behind
        ("988", datetime(2026, 6, 10, 14, 0, tzinfo=UTC), date(2026, 6, 11)),  # UTC+11: ahead
        ("987", datetime(2026, 6, 11, 8, 0, tzinfo=UTC), date(2026, 6, 10)),  # UTC−10: behind
        ("75", datetime(2026, 6, 10, 22, 30, tzinfo=UTC), date(2026, 6, 11)),  # CEST: ahead
    ],
)
def test_local_today(department: str, now: datetime, expected: date) -> None:
    assert now.date() != expected
    assert local_today(department, now) == expected


def test_local_today_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_today("75", datetime(2026, 6, 10, 12, 0))

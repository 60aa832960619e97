"""Time zone and public holidays of a unit, derived from its département code (spec §3.1–3.2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

METROPOLITAN_TIMEZONE: Final = "Europe/Paris"

# Every département not listed here (metropolitan ones, 2A, 2B, unknown codes) is on Paris time.
_TIMEZONES: Final[Mapping[str, str]] = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}

# Codes of `holidays.France.subdivisions` (all present in holidays 0.108); others: national list.
_SUBDIVISIONS: Final[Mapping[str, str]] = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "975": "PM",
    "976": "976",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}


def normalise_department(department: str) -> str:
    """Canonical spelling of a département code: no surrounding blanks, `2a` → `2A`."""
    return department.strip().upper()


def unit_timezone(department: str) -> ZoneInfo:
    """Time zone of a unit of the given département."""
    # ZoneInfo keeps its own cache, so this returns the same object for the same key.
    return ZoneInfo(_TIMEZONES.get(normalise_department(department), METROPOLITAN_TIMEZONE))


def holiday_subdivision(department: str) -> str | None:
    """Subdivision code of `holidays.France` for the département, None for the national list."""
    return _SUBDIVISIONS.get(normalise_department(department))


@lru_cache(maxsize=256)
def _holiday_dates(subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of one subdivision and year; built once, as holidays objects are slow."""
    # country_holidays("FR") builds the same holidays.France object, but is typed for mypy.
    return frozenset(holidays.country_holidays("FR", subdiv=subdivision, years=year).keys())


def holiday_dates(department: str, year: int) -> frozenset[date]:
    """Public-holiday dates of the département's units in a year (cached per subdivision/year)."""
    return _holiday_dates(holiday_subdivision(department), year)


def is_public_holiday(department: str, day: date) -> bool:
    """Whether a local date is a public holiday for units of the département (cached)."""
    return day in _holiday_dates(holiday_subdivision(department), day.year)


def local_today(department: str, now: datetime) -> date:
    """The unit's local date at the aware instant `now`."""
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(unit_timezone(department)).date()

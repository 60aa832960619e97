"""Opening ranges: parsing the dataset's time formats, and writing them for people and programs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MINUTES_PER_DAY = 24 * 60
PUBLIC_HOLIDAYS = 7

# Keys of the dataset's columns, in the order of the published layout; index = weekday key.
DAY_KEYS = (
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "jours_feries",
)
DAY_LABELS_FR = (
    "Lundi",
    "Mardi",
    "Mercredi",
    "Jeudi",
    "Vendredi",
    "Samedi",
    "Dimanche",
    "Jours fériés",
)
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")

Range = tuple[int, int]
WeeklyHours = Mapping[int, Sequence[Range]]

_TIME = re.compile(r"^\s*(\d{1,2})\s*(?:[hH:]\s*(\d{1,2})?(?::(\d{2}))?)?\s*$")
_FREE_DAY = re.compile(
    r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|jours?\s+f[ée]ri[ée]s?)\s*:",
    re.IGNORECASE,
)
_FREE_RANGE = re.compile(r"^(\S+?)\s*[-–à]\s*(\S+)$")
# `08h00 - 12h00`, `8h à 12h`: the dash (or « à ») between two times, spaces around it.
_FREE_DASH = re.compile(r"(?<=[\dhH])\s*(?:[-–]|\sà\s)\s*(?=\d)")


class HoursError(ValueError):
    """An opening time or range that cannot be understood; the message is French."""


def parse_time(text: str) -> int:
    """Minutes after local midnight for `8h0`, `8h00`, `08h00`, `08:00`, `08:00:00`, `24h00`."""
    match = _TIME.match(text)
    if not match:
        raise HoursError(f"heure illisible « {text.strip()} »")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    seconds = int(match.group(3) or 0)
    if minutes > 59 or seconds != 0 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(f"heure impossible « {text.strip()} »")
    return hours * 60 + minutes


def check_range(start: int, end: int) -> Range:
    """Return the range when `00:00 <= start < end <= 24:00`, else raise HoursError."""
    if not 0 <= start < end <= MINUTES_PER_DAY:
        raise HoursError(
            f"plage {format_time(start)}–{format_time(end)} : le début doit précéder la fin"
        )
    return (start, end)


def normalise_day(ranges: Sequence[Range]) -> list[Range]:
    """Sort a day's ranges and refuse overlapping ones."""
    ordered = sorted(check_range(start, end) for start, end in ranges)
    for (_, previous_end), (start, end) in zip(ordered, ordered[1:], strict=False):
        if start < previous_end:
            raise HoursError(f"plages qui se chevauchent : {format_time(start)}–{format_time(end)}")
    return ordered


def normalise_hours(hours: WeeklyHours) -> dict[int, list[Range]]:
    """A canonical copy of weekly hours: only non-empty days, ranges sorted and checked."""
    result = {}
    for day, ranges in sorted(hours.items()):
        if day not in range(len(DAY_KEYS)):
            raise HoursError(f"jour inconnu {day}")
        if ranges:
            result[day] = normalise_day(ranges)
    return result


def fit_ranges(ranges: Sequence[Range], most: int) -> list[Range]:
    """At most `most` ranges covering the same hours: the shortest gaps are bridged first.

    The published layout has room for three ranges a day; the import refuses more, so only
    hours written behind the application's back get here. Bridging the shortest gap is the
    smallest change to what is published (never an opening range left out).
    """
    fitted = [tuple(pair) for pair in sorted(ranges)]
    while len(fitted) > most:
        gaps = [fitted[i + 1][0] - fitted[i][1] for i in range(len(fitted) - 1)]
        i = gaps.index(min(gaps))
        fitted[i : i + 2] = [(fitted[i][0], max(fitted[i][1], fitted[i + 1][1]))]
    return [(start, end) for start, end in fitted]


def format_time(minutes: int) -> str:
    """`08:00` style, `24:00` for the end of the day."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_time_csv(minutes: int) -> str:
    """`08h00` style, as in the official dataset."""
    return f"{minutes // 60:02d}h{minutes % 60:02d}"


def format_time_fr(minutes: int) -> str:
    """`8 h`, `8 h 30`: how French public signs write times."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest:02d}"


def parse_free_text(text: str) -> dict[int, list[Range]]:
    """Read ` Lundi : 8h00-12h00 14h00-18h00 Mardi : …` (days not named are closed)."""
    hours: dict[int, list[Range]] = {}
    text = text.strip()
    if not text:
        return hours
    parts = _FREE_DAY.split(text)
    if parts[0].strip():
        raise HoursError(f"texte inattendu avant le premier jour : « {parts[0].strip()} »")
    for label, body in zip(parts[1::2], parts[2::2], strict=True):
        day = _free_day_key(label)
        if day in hours:
            raise HoursError(f"{DAY_LABELS_FR[day]} apparaît deux fois")
        ranges = []
        body = _FREE_DASH.sub("-", body.replace(",", " ").replace(";", " "))
        for token in body.split():
            match = _FREE_RANGE.match(token)
            if not match:
                if token.lower() in {"fermé", "ferme"}:
                    continue
                raise HoursError(f"plage illisible « {token} » ({DAY_LABELS_FR[day]})")
            ranges.append((parse_time(match.group(1)), parse_time(match.group(2))))
        hours[day] = normalise_day(ranges)
    return {day: ranges for day, ranges in sorted(hours.items()) if ranges}


def _free_day_key(label: str) -> int:
    """Weekday key of a day name of the free-text layout."""
    label = label.lower()
    if label.startswith("jour"):
        return PUBLIC_HOLIDAYS
    return DAY_KEYS.index(label)


def osm_opening_hours(hours: WeeklyHours) -> str:
    """The OpenStreetMap `opening_hours` value of weekly hours; `PH` for public holidays."""
    weekly = normalise_hours(hours)
    rules = []
    day = 0
    while day < 7:
        ranges = weekly.get(day, [])
        last = day
        while last + 1 < 7 and weekly.get(last + 1, []) == ranges:
            last += 1
        if ranges:
            days = OSM_DAYS[day] if last == day else f"{OSM_DAYS[day]}-{OSM_DAYS[last]}"
            rules.append(f"{days} {_osm_ranges(ranges)}")
        day = last + 1
    holiday_ranges = weekly.get(PUBLIC_HOLIDAYS)
    if not rules and not holiday_ranges:
        return "off"
    # Holiday hours replace the weekday's, so PH comes last, where it overrides.
    rules.append(f"PH {_osm_ranges(holiday_ranges)}" if holiday_ranges else "PH off")
    return "; ".join(rules)


def _osm_ranges(ranges: Sequence[Range]) -> str:
    """`08:00-12:00,14:00-18:00`."""
    return ",".join(f"{format_time(start)}-{format_time(end)}" for start, end in ranges)


# The words of a week's hours in each language the service speaks (SPEC §13): days,
# closed, open all day, and how a time is written (`8 h 30`, `08:30`).
WEEK_WORDS = {
    "fr": (DAY_LABELS_FR, "fermé", "24 h sur 24", format_time_fr),
    "en": (
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "closed",
        "open 24 hours",
        format_time,
    ),
}


def describe_fr(hours: WeeklyHours) -> list[tuple[str, str]]:
    """Each day of the week (then public holidays) with its hours written in French."""
    return describe(hours, "fr")


def describe(hours: WeeklyHours, language: str) -> list[tuple[str, str]]:
    """Each day of the week with its hours, in `language` (French if it is not spoken)."""
    labels, closed, all_day, written = WEEK_WORDS.get(language, WEEK_WORDS["fr"])
    weekly = normalise_hours(hours)
    lines = []
    for day, label in enumerate(labels):
        ranges = weekly.get(day, [])
        if not ranges:
            text = closed
        elif ranges == [(0, MINUTES_PER_DAY)]:
            text = all_day
        else:
            text = ", ".join(f"{written(start)} – {written(end)}" for start, end in ranges)
        lines.append((label, text))
    return lines

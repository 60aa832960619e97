"""Dates, times and places written for the reader's language (French, the default, or
English; SPEC §13), by Babel's data for the language: weekdays, months, the order of it all."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

# Babel's locale for each language the service speaks (British English: day before month).
LOCALES = {"fr": "fr_FR", "en": "en_GB"}

# How a reader names each zone the service uses.
ZONE_NAMES = {
    "fr": {
        "Europe/Paris": "heure de Paris",
        "America/Guadeloupe": "heure de la Guadeloupe",
        "America/Martinique": "heure de la Martinique",
        "America/Cayenne": "heure de la Guyane",
        "Indian/Reunion": "heure de La Réunion",
        "America/Miquelon": "heure de Saint-Pierre-et-Miquelon",
        "Indian/Mayotte": "heure de Mayotte",
        "America/St_Barthelemy": "heure de Saint-Barthélemy",
        "America/Marigot": "heure de Saint-Martin",
        "Pacific/Wallis": "heure de Wallis-et-Futuna",
        "Pacific/Tahiti": "heure de Tahiti",
        "Pacific/Noumea": "heure de Nouméa",
    },
    "en": {
        "Europe/Paris": "Paris time",
        "America/Guadeloupe": "Guadeloupe time",
        "America/Martinique": "Martinique time",
        "America/Cayenne": "French Guiana time",
        "Indian/Reunion": "Réunion time",
        "America/Miquelon": "Saint-Pierre-et-Miquelon time",
        "Indian/Mayotte": "Mayotte time",
        "America/St_Barthelemy": "Saint-Barthélemy time",
        "America/Marigot": "Saint-Martin time",
        "Pacific/Wallis": "Wallis and Futuna time",
        "Pacific/Tahiti": "Tahiti time",
        "Pacific/Noumea": "Nouméa time",
    },
}
LOCAL_TIME = {"fr": "heure locale", "en": "local time"}
# `mardi 24 novembre 2026` / `Tuesday 24 November 2026`; `10 h 30` / `10:30`.
DAY_PATTERN = {"fr": "EEEE d MMMM y", "en": "EEEE d MMMM y"}
TIME_PATTERN = {"fr": "H 'h' mm", "en": "HH:mm"}
AT = {"fr": "à", "en": "at"}


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["fr"])


def of_place(label: str, language: str = "fr") -> str:
    """`de` before a place, as French writes it: `d'Orléans`, `du Havre`, `des Mureaux`,
    `du code postal 45000`, `de Paris` (an initial h is left alone: it may be aspirated).
    English sentences put their own preposition: the place as it is."""
    if language != "fr":
        return label
    for article, contracted in (("Le ", "du "), ("Les ", "des "), ("code ", "du code ")):
        if label.startswith(article):
            return contracted + label[len(article) :]
    if label[:1].upper() in "AEIOUYÀÂÉÈÊÎÔÛ":
        return "d'" + label
    return "de " + label


def local(moment: datetime, timezone: str) -> datetime:
    """The moment in the unit's zone."""
    return moment.astimezone(ZoneInfo(timezone))


def day_of(moment: datetime, timezone: str, language: str = "fr") -> str:
    """`mardi 24 novembre 2026`, `Tuesday 24 November 2026`."""
    pattern = DAY_PATTERN.get(language, DAY_PATTERN["fr"])
    return format_date(local(moment, timezone), pattern, locale=_locale(language))


def time_of(moment: datetime, timezone: str, language: str = "fr") -> str:
    """`10 h 30`, `10:30`."""
    pattern = TIME_PATTERN.get(language, TIME_PATTERN["fr"])
    return format_time(local(moment, timezone), pattern, locale=_locale(language))


def zone_of(timezone: str, language: str = "fr") -> str:
    """`heure de La Réunion`, `Réunion time`: a zone as a reader names it."""
    names = ZONE_NAMES.get(language, ZONE_NAMES["fr"])
    return names.get(timezone, LOCAL_TIME.get(language, LOCAL_TIME["fr"]))


def dates_of(first: date, last: date, language: str = "fr") -> str:
    """`du mardi 24 au lundi 30 novembre`, `from Tuesday 24 to Monday 30 November`."""
    locale = _locale(language)
    end = format_date(last, "EEEE d MMMM", locale=locale)
    english = language == "en"
    if first == last:
        return f"on {end}" if english else f"le {end}"
    pattern = "EEEE d" if (first.year, first.month) == (last.year, last.month) else "EEEE d MMMM"
    start = format_date(first, pattern, locale=locale)
    return f"from {start} to {end}" if english else f"du {start} au {end}"


def when_of(moment: datetime, timezone: str, language: str = "fr", zone: bool = True) -> str:
    """`mardi 24 novembre 2026 à 10 h 30`, with the zone named outside metropolitan time
    (unless `zone` is False): `Tuesday 24 November 2026 at 10:30 (Réunion time, UTC+4)`."""
    at = AT.get(language, AT["fr"])
    text = f"{day_of(moment, timezone, language)} {at} {time_of(moment, timezone, language)}"
    if zone and timezone != "Europe/Paris":
        offset = local(moment, timezone).strftime("%z")
        hours = int(offset[:3])
        minutes = f":{offset[3:]}" if offset[3:] != "00" else ""
        text += f" ({zone_of(timezone, language)}, UTC{hours:+d}{minutes})"
    return text


def distance_of(km: float, language: str = "fr") -> str:
    """`3,4 km`, `3.4 km`."""
    text = f"{km:.1f}"
    return (text if language == "en" else text.replace(".", ",")) + " km"


# The French names the staff side and the command line use.
def when_fr(moment: datetime, timezone: str) -> str:
    """`mardi 24 novembre 2026 à 10 h 30` (see when_of)."""
    return when_of(moment, timezone, "fr")

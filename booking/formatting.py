"""Dates, times and places written for French readers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

# How a French reader names each zone the service uses.
ZONE_NAMES = {
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
}


def of_place(label: str) -> str:
    """`de` before a place, as French writes it: `d'Orléans`, `du Havre`, `des Mureaux`,
    `du code postal 45000`, `de Paris` (an initial h is left alone: it may be aspirated)."""
    for article, contracted in (("Le ", "du "), ("Les ", "des "), ("code ", "du code ")):
        if label.startswith(article):
            return contracted + label[len(article) :]
    if label[:1].upper() in "AEIOUYÀÂÉÈÊÎÔÛ":
        return "d'" + label
    return "de " + label


def local(moment: datetime, timezone: str) -> datetime:
    """The moment in the unit's zone."""
    return moment.astimezone(ZoneInfo(timezone))


def day_fr(moment: datetime, timezone: str) -> str:
    """`mardi 24 novembre 2026`."""
    return format_date(local(moment, timezone), "EEEE d MMMM y", locale="fr_FR")


def time_fr(moment: datetime, timezone: str) -> str:
    """`10 h 30`."""
    return format_time(local(moment, timezone), "H 'h' mm", locale="fr_FR")


def zone_fr(timezone: str) -> str:
    """`heure de La Réunion`: a zone as a French reader names it."""
    return ZONE_NAMES.get(timezone, "heure locale")


def dates_fr(first: date, last: date) -> str:
    """`du mardi 24 au lundi 30 novembre`, `du lundi 30 novembre au dimanche 6 décembre`."""
    end = format_date(last, "EEEE d MMMM", locale="fr_FR")
    if first == last:
        return f"le {end}"
    pattern = "EEEE d" if (first.year, first.month) == (last.year, last.month) else "EEEE d MMMM"
    return f"du {format_date(first, pattern, locale='fr_FR')} au {end}"


def when_fr(moment: datetime, timezone: str) -> str:
    """`mardi 24 novembre 2026 à 10 h 30`, with the zone named outside metropolitan time."""
    text = f"{day_fr(moment, timezone)} à {time_fr(moment, timezone)}"
    if timezone != "Europe/Paris":
        offset = local(moment, timezone).strftime("%z")
        hours = int(offset[:3])
        minutes = f":{offset[3:]}" if offset[3:] != "00" else ""
        text += f" ({zone_fr(timezone)}, UTC{hours:+d}{minutes})"
    return text

"""Places written as people write them, made from the gazetteer's own rows (not from a list
the matcher was tuned on), and whether what a search makes of them leads somewhere useful:
used by the whole-gazetteer tests and by `bench/bench_places.py`.

A query *leads* to a commune when the search resolves it to a place whose territory's first
unit is within `REACH_KM` of the commune, or offers a choice of places that contains it.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from booking.domain.geo import Point, distance_km
from booking.domain.places import PlaceEntry, PlaceIndex, Resolution
from booking.domain.text import fold
from booking.services.places.nearby import POINTS, nearest

REACH_KM = 50.0
TYPO_LETTERS = 7  # names of at least this many letters get one typo

FirstUnit = Callable[[Point, str], Point | None]  # (place's point, département) → first unit's


def plain(name: str) -> str:
    """Lower case, no accents, no hyphens: `saint jean de braye`."""
    return fold(name)


def saint_short(name: str) -> str | None:
    """`St-Jean-de-Braye`, `Ste-Foy`: only names with a Saint or a Sainte."""
    if not re.search(r"\bSainte?\b", name):
        return None
    return re.sub(r"\bSainte\b", "Ste", re.sub(r"\bSaint\b", "St", name))


def la_poste(name: str) -> str:
    """La Poste's spelling: capitals, no accents, ST/STE, the article after the name in
    parentheses (`CHAUX (LA)`, `ABERGEMENT CLEMENCIAT (L')`)."""
    upper = fold(name).upper()
    upper = re.sub(r"\bSAINTE\b", "STE", re.sub(r"\bSAINT\b", "ST", upper))
    article = re.match(r"^(LE|LA|LES|L) (.+)$", upper)
    if article:
        word = "L'" if article.group(1) == "L" else article.group(1)
        return f"{article.group(2)} ({word})"
    return upper


def typo(name: str, rng: random.Random) -> str | None:
    """One letter swapped with the next, missing, doubled or wrong (names of seven letters
    or more; never the first letter)."""
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    if len(letters) < TYPO_LETTERS:
        return None
    at = rng.choice(letters[1:])
    kind = rng.choice(("swap", "missing", "doubled", "wrong"))
    if kind == "swap" and at + 1 < len(name) and name[at + 1].isalpha():
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if kind == "missing":
        return name[:at] + name[at + 1 :]
    if kind == "doubled":
        return name[:at] + name[at] + name[at:]
    wrong = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != name[at].lower()])
    return name[:at] + wrong + name[at + 1 :]


def forms(entry: PlaceEntry, rng: random.Random) -> dict[str, str | None]:
    """Each way of writing a commune that the search must understand."""
    postcode = entry.postcodes[0] if entry.postcodes else None
    return {
        "name": entry.name,
        "plain": plain(entry.name),
        "St": saint_short(entry.name),
        "La Poste": la_poste(entry.name),
        "name+postcode": f"{entry.name} {postcode}" if postcode else None,
        "postcode+name": f"{postcode} {entry.name}" if postcode else None,
        "typo": typo(entry.name, rng),
    }


@dataclass
class Tally:
    """How many queries of one form lead to their commune; a few that do not."""

    asked: int = 0
    led: int = 0
    alone: int = 0  # resolved to one place without a choice
    missed: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Percentage led."""
        return 100.0 * self.led / max(1, self.asked)


def leads(
    entry: PlaceEntry, found: Resolution, first_unit: FirstUnit, cache: dict[object, bool]
) -> bool:
    """Whether a resolution leads to a commune (see the module's docstring)."""
    if found.place is None:
        return any(choice.insee == entry.insee for choice in found.choices)
    if found.place.insee == entry.insee and entry.point is None:
        return True  # a commune nobody places, found itself: its territory's units follow
    point = found.point
    if point is None or entry.point is None:
        return False
    key = (point, found.place.department, entry.point)
    if key not in cache:
        unit = first_unit(point, found.place.department)
        cache[key] = unit is not None and distance_km(unit, entry.point) <= REACH_KM
    return cache[key]


def coverage(
    index: PlaceIndex,
    communes: Iterable[PlaceEntry],
    first_unit: FirstUnit,
    names: Iterable[str] | None = None,
    seed: int = 20261207,
) -> dict[str, Tally]:
    """Every form of every commune, resolved, and tallied."""
    rng = random.Random(seed)
    tallies: dict[str, Tally] = {}
    cache: dict[object, bool] = {}
    wanted = set(names) if names is not None else None
    for entry in communes:
        for form, query in forms(entry, rng).items():
            if query is None or (wanted is not None and form not in wanted):
                continue
            tally = tallies.setdefault(form, Tally())
            found = index.resolve(query)
            tally.asked += 1
            if leads(entry, found, first_unit, cache):
                tally.led += 1
                tally.alone += found.place is not None
            elif len(tally.missed) < 10:
                meant = found.label or [choice.label for choice in found.choices]
                tally.missed.append(f"{query!r} → {meant}")
    return tallies


def postcode_coverage(
    index: PlaceIndex, communes: Iterable[PlaceEntry], first_unit: FirstUnit
) -> Tally:
    """Every postcode of the communes: its place's first unit within reach of each commune
    that has that postcode (of the first of them, for a postcode several communes share:
    its middle is between them)."""
    tally = Tally()
    seen: set[str] = set()
    for entry in communes:
        for postcode in entry.postcodes:
            if postcode in seen:
                continue
            seen.add(postcode)
            found = index.resolve(postcode)
            tally.asked += 1
            places = [e for e in index.by_postcode.get(postcode, []) if e.kind == "commune"]
            if found.place is None:
                tally.missed.append(postcode)
                continue
            point = found.point
            if point is None:  # nobody places its communes: found is all one can ask
                tally.led += 1
                continue
            unit = first_unit(point, found.place.department)
            near = unit is not None and any(
                p.point is not None and distance_km(unit, p.point) <= REACH_KM for p in places
            )
            tally.led += near
            if not near and len(tally.missed) < 10:
                tally.missed.append(postcode)
    return tally


def first_unit_finder() -> FirstUnit:
    """The point of the first unit a place search shows (its territory's nearest), from
    the units' points of the current application."""
    units = POINTS.get()
    points = {
        int(i): (math.degrees(lat), math.degrees(lon))
        for i, lat, lon in zip(units.ids, units.latitudes, units.longitudes, strict=True)
    }

    def first(point: Point, department: str) -> Point | None:
        page, _ = nearest(point, 1, department=department)
        return points[page[0][0]] if page else None

    return first

"""Finding units (SPEC §9): from a place, a point, a département or a unit's name, each unit
with its next free slot for the reason chosen.

A search looks, in this order, for:
1. a point ("Autour de moi"), or a place chosen among suggestions or homonyms;
2. a département code (`45`, `2A`, `974`): its units, by name;
3. a place typed (a commune, a postcode, an INSEE code): its nearest units (the 50
   nearest at most, nearest first); a name several communes share asks which one;
4. a unit's name (the words of its name or commune): those units;
5. names close to what was typed ("chesy" → Chessy): the citizen chooses.
No search ends without a next step: when nothing is found, close names are offered (and
the page offers "Autour de moi").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from booking.domain.capacity import ON_SITE
from booking.domain.geo import Point
from booking.domain.places import PlaceEntry
from booking.domain.slots import Slot
from booking.domain.words import N_
from booking.extensions import db
from booking.models import Reason, Unit
from booking.services.places.gazetteer import INDEX, find_place, resolve_place
from booking.services.places.nearby import POINTS, approximate_point, has_units, unit_point
from booking.services.slots.offered import first_slots
from booking.services.units.reading import UnitHit, UnitSearch, search_units, units_around

NEARBY_SCAN = 30  # units looked at around a unit with no slot, to find a few that have one
AROUND = 50  # the nearest units a place search offers, at most
_DEPARTMENT = re.compile(r"^\s*(\d{2}|2[AaBb]|97[1-8]|98[6-8])\s*$")


@dataclass(frozen=True)
class Found:
    """A unit found, its distance to the point searched, its next slot for the reason."""

    unit: Unit
    distance_km: float | None = None
    next_slot: Slot | None = None
    approximate: bool = False  # the distance is from or to a point the data does not give


@dataclass(frozen=True)
class Results:
    """One page of units found, and how many match in all."""

    items: list[Found]
    total: int


@dataclass(frozen=True)
class UnitQuery:
    """What a citizen or a partner asks for."""

    text: str = ""
    place: str = ""  # the code of a place chosen among suggestions
    near: Point | None = None
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True)
class Finding:
    """What a search found: units (around a place, if one was understood), or choices."""

    results: Results
    place: PlaceEntry | None = None  # the place looked around
    around: str = ""  # how the page names where it looked: "Orléans (45)", "votre position"
    choices: list[PlaceEntry] = field(default_factory=list)  # homonyms, or close names
    homonyms: bool = False  # the choices share the name typed (else they resemble it)
    note: str = ""  # which part of a name and postcode did not match
    police: bool = False  # the place's département has no unit (police territory)

    @property
    def by_distance(self) -> bool:
        """Whether the units come nearest first."""
        return bool(self.around)


def find_units(
    query: UnitQuery, reason: Reason | None, now: datetime | None = None, mode: str = ON_SITE
) -> Finding:
    """The units a query means, each with its next slot for `reason` (when given) in
    `mode`."""
    return _with_slots(_find(query), reason, now, mode)


def filter_units(
    search: UnitSearch, reason: Reason | None, now: datetime | None = None, mode: str = ON_SITE
) -> Finding:
    """Units by the API's filters (words, postcode, département, near a point), with slots."""
    return _with_slots(Finding(_results(*search_units(search))), reason, now, mode)


def _with_slots(
    finding: Finding, reason: Reason | None, now: datetime | None, mode: str = ON_SITE
) -> Finding:
    """The finding, each unit with its next slot for `reason` (when given)."""
    if reason is None or not finding.results.items:
        return finding
    items = finding.results.items
    firsts = first_slots([item.unit for item in items], reason, now, mode)
    items = [replace(item, next_slot=firsts.get(item.unit.id)) for item in items]
    return replace(finding, results=Results(items, finding.results.total))


def _find(query: UnitQuery) -> Finding:
    """The units (or the choices) of a query, without their slots."""
    if query.near is not None:
        hits, total = units_around(query.near, query.limit, query.offset, cap=AROUND)
        return Finding(_results(hits, total), around=N_("votre position"))
    chosen = find_place(query.place) if query.place else None
    if chosen is not None:
        return _around(chosen, chosen.point, chosen.label, query)
    department = _DEPARTMENT.match(query.text)
    if department:
        search = UnitSearch(department=department.group(1), limit=query.limit, offset=query.offset)
        return Finding(_results(*search_units(search)))
    resolution = resolve_place(query.text) if query.text.strip() else None
    if resolution is not None and resolution.place is not None:
        found = _around(resolution.place, resolution.point, resolution.label, query)
        return replace(found, note=resolution.note)
    if resolution is not None and resolution.note and not resolution.choices:
        return Finding(Results([], 0), note=resolution.note)
    if resolution is not None and resolution.exact:
        return Finding(
            Results([], 0), choices=resolution.choices, homonyms=True, note=resolution.note
        )
    hits, total = search_units(UnitSearch(q=query.text, limit=query.limit, offset=query.offset))
    if total or resolution is None or not resolution.choices:
        return Finding(_results(hits, total))
    return Finding(Results([], 0), choices=resolution.choices, note=resolution.note)


def _around(place: PlaceEntry, point: Point | None, label: str, query: UnitQuery) -> Finding:
    """The units nearest a place, of its territory only when it has any (SPEC §9); without
    a point, see `_around_unplaced`. A département without units says so."""
    police = not has_units(place.department)
    if point is None:
        return _around_unplaced(place, label, query, police)
    hits, total = units_around(
        point, query.limit, query.offset, cap=AROUND, department=place.department
    )
    return Finding(_results(hits, total), place=place, around=label, police=police)


def _around_unplaced(place: PlaceEntry, label: str, query: UnitQuery, police: bool) -> Finding:
    """A commune nobody places (New Caledonia, Polynesia…): the units of the commune first,
    then of its postcode, then the nearest of its territory from the middle of its postcode
    or territory; no distance is shown, none being known."""
    postcode = place.postcodes[0] if place.postcodes else ""
    point = approximate_point(INDEX.get(), place.insee, postcode, place.department)
    if point is None:  # not even its territory: its units by name
        units = list(
            db.session.scalars(
                select(Unit)
                .where(Unit.active.is_(True), Unit.department == place.department)
                .options(selectinload(Unit.opening_ranges))
                .order_by(Unit.insee != place.insee, Unit.name, Unit.public_id)
            )
        )
        page = [Found(unit) for unit in units[query.offset : query.offset + query.limit]]
        return Finding(Results(page, len(units)), place=place, police=police)
    hits, total = units_around(point, AROUND, cap=AROUND, department=place.department)
    hits.sort(key=lambda hit: (hit.unit.insee != place.insee, hit.unit.postcode != postcode))
    page = [Found(hit.unit) for hit in hits[query.offset : query.offset + query.limit]]
    return Finding(Results(page, total), place=place, around=label, police=police)


def _results(hits: list[UnitHit], total: int) -> Results:
    """Search hits as results (no slot yet)."""
    points = POINTS.get()
    return Results(
        [
            Found(
                hit.unit,
                None if hit.unit.id in points.coarse else hit.distance_km,
                approximate=hit.unit.id in points.approximate,
            )
            for hit in hits
        ],
        total,
    )


def nearby_with_slots(
    unit: Unit, reason: Reason, count: int = 5, now: datetime | None = None
) -> list[Found]:
    """The nearest other units that do have a slot for the reason (none has one here)."""
    point, _ = unit_point(unit)
    if point is None:
        return []
    hits, total = units_around(point, NEARBY_SCAN, department=unit.department)
    found = _with_slots(Finding(_results(hits, total)), reason, now).results.items
    return [item for item in found if item.unit.id != unit.id and item.next_slot][:count]


def warm_up() -> None:
    """Build this process's indexes (places, units' points) before a citizen waits for them;
    a database out of reach only postpones it to the first search."""
    try:
        INDEX.get()
        POINTS.get()
    except SQLAlchemyError:
        db.session.rollback()

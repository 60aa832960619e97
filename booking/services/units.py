"""Reading units: one unit, searches by text, postcode, département and distance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from booking.domain.hours import Range
from booking.domain.text import search_words
from booking.domain.units_csv import UnitRecord
from booking.extensions import db
from booking.models import OpeningRange, Unit

EARTH_RADIUS_KM = 6371.0088


class UnitNotFound(LookupError):
    """No active unit has this identifier."""


@dataclass(frozen=True)
class UnitSearch:
    """What a citizen or a partner asks for when looking for units."""

    q: str = ""
    postcode: str = ""
    department: str = ""
    near: tuple[float, float] | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class UnitHit:
    """A unit found by a search, with its distance when the search was `near` a point."""

    unit: Unit
    distance_km: float | None = None


def weekly_hours(unit: Unit) -> dict[int, list[Range]]:
    """The unit's opening ranges by weekday key (7 = public holidays)."""
    hours: dict[int, list[Range]] = {}
    for opening in unit.opening_ranges:
        hours.setdefault(opening.weekday, []).append((opening.start_minute, opening.end_minute))
    return {day: sorted(ranges) for day, ranges in sorted(hours.items())}


def hours_by_unit() -> dict[int, dict[int, list[Range]]]:
    """Every unit's weekly hours from plain rows: fast for thousands (no ORM objects)."""
    hours: dict[int, dict[int, list[Range]]] = {}
    ranges = db.session.execute(
        select(
            OpeningRange.unit_id,
            OpeningRange.weekday,
            OpeningRange.start_minute,
            OpeningRange.end_minute,
        ).order_by(OpeningRange.unit_id, OpeningRange.weekday, OpeningRange.start_minute)
    )
    for unit_id, weekday, start, end in ranges:
        hours.setdefault(unit_id, {}).setdefault(weekday, []).append((start, end))
    return hours


def unit_record(unit: Unit) -> UnitRecord:
    """The dataset's view of a unit."""
    return UnitRecord(
        public_id=unit.public_id,
        name=unit.name,
        address=unit.address,
        phone=unit.phone,
        department=unit.department,
        insee=unit.insee,
        street=unit.street,
        postcode=unit.postcode,
        commune=unit.commune,
        longitude=unit.longitude,
        latitude=unit.latitude,
        url=unit.url,
        email=unit.email,
        hours=weekly_hours(unit),
    )


def get_unit(public_id: str) -> Unit:
    """The active unit with this identifier, its hours loaded."""
    unit = db.session.scalar(
        select(Unit)
        .where(Unit.public_id == public_id, Unit.active.is_(True))
        .options(selectinload(Unit.opening_ranges))
    )
    if unit is None:
        raise UnitNotFound(public_id)
    return cast(Unit, unit)


def search_units(search: UnitSearch) -> tuple[list[UnitHit], int]:
    """One page of active units matching the search, and how many match in all."""
    query = _filtered(search)
    if search.near is None:
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        units = db.session.scalars(
            query.order_by(Unit.commune, Unit.name, Unit.public_id)
            .limit(search.limit)
            .offset(search.offset)
            .options(selectinload(Unit.opening_ranges))
        ).all()
        return [UnitHit(unit) for unit in units], total
    return _search_near(query, search.near, search.limit, search.offset)


def _filtered(search: UnitSearch) -> Select[Unit]:
    """Active units narrowed by text, postcode and département."""
    query = select(Unit).where(Unit.active.is_(True))
    for word in search_words(search.q):
        query = query.where(Unit.search_key.contains(word, autoescape=True))
    if search.postcode:
        query = query.where(Unit.postcode.startswith(search.postcode, autoescape=True))
    if search.department:
        query = query.where(Unit.department == search.department.upper())
    return query


def _search_near(
    query: Select[Unit], point: tuple[float, float], limit: int, offset: int
) -> tuple[list[UnitHit], int]:
    """Units with coordinates, nearest first; distances on the sphere (haversine)."""
    located = query.where(Unit.latitude.is_not(None), Unit.longitude.is_not(None)).subquery()
    rows = db.session.execute(select(located.c.id, located.c.latitude, located.c.longitude)).all()
    ranked = sorted(
        (distance_km(point, (latitude, longitude)), unit_id)
        for unit_id, latitude, longitude in rows
    )
    page = ranked[offset : offset + limit]
    units = {
        unit.id: unit
        for unit in db.session.scalars(
            select(Unit)
            .where(Unit.id.in_([unit_id for _, unit_id in page]))
            .options(selectinload(Unit.opening_ranges))
        )
    }
    return [UnitHit(units[unit_id], round(distance, 2)) for distance, unit_id in page], len(ranked)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))

"""Reading units: one unit, searches by text, postcode, département and distance."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from booking.database import fresh, run
from booking.domain.geo import Point
from booking.domain.hours import Range
from booking.domain.text import search_words
from booking.domain.units_csv import UnitRecord
from booking.errors import UnitNotFound
from booking.extensions import db
from booking.models import OpeningRange, Unit
from booking.services.places.nearby import nearest

_POSTCODE = re.compile(r"^\s*(\d{2,5})\s*$")


@dataclass(frozen=True)
class UnitSearch:
    """What a citizen or a partner asks for when looking for units."""

    q: str = ""
    postcode: str = ""
    department: str = ""
    near: Point | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class UnitHit:
    """A unit found by a search, with its distance when the search was `near` a point."""

    unit: Unit
    distance_km: float | None = None


def weekly_hours(unit: Unit) -> dict[int, list[Range]]:
    """The unit's opening ranges in force, by weekday key (7 = public holidays)."""
    return _by_day(o for o in unit.opening_ranges if o.valid_from is None)


def scheduled_hours(unit: Unit) -> tuple[date, dict[int, list[Range]]] | None:
    """The hours the unit's staff set from a later date on, with that date, if any."""
    later = [o for o in unit.opening_ranges if o.valid_from is not None]
    if not later:
        return None
    return min(o.valid_from for o in later if o.valid_from), _by_day(later)


def _by_day(openings: Iterable[OpeningRange]) -> dict[int, list[Range]]:
    """Ranges by weekday key, sorted."""
    hours: dict[int, list[Range]] = {}
    for opening in openings:
        hours.setdefault(opening.weekday, []).append((opening.start_minute, opening.end_minute))
    return {day: sorted(ranges) for day, ranges in sorted(hours.items())}


Schedule = tuple[dict[int, list[Range]], tuple[date, dict[int, list[Range]]] | None]


def hours_by_unit() -> dict[int, Schedule]:
    """Every unit's hours in force, and those set from a later date if any, from plain rows:
    fast for thousands (no ORM objects)."""
    now: dict[int, dict[int, list[Range]]] = {}
    later: dict[int, tuple[date, dict[int, list[Range]]]] = {}
    ranges = db.session.execute(
        select(
            OpeningRange.unit_id,
            OpeningRange.weekday,
            OpeningRange.start_minute,
            OpeningRange.end_minute,
            OpeningRange.valid_from,
        ).order_by(OpeningRange.unit_id, OpeningRange.weekday, OpeningRange.start_minute)
    )
    for unit_id, weekday, start, end, valid_from in ranges:
        if valid_from is None:
            now.setdefault(unit_id, {}).setdefault(weekday, []).append((start, end))
        else:
            day, hours = later.setdefault(unit_id, (valid_from, {}))
            hours.setdefault(weekday, []).append((start, end))
    return {unit_id: (now.get(unit_id, {}), later.get(unit_id)) for unit_id in now.keys() | later}


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
    """The active unit with this identifier, its hours loaded: the views' resolver."""
    unit = db.session.scalars(_ACTIVE_UNIT, {"public_id": public_id}).unique().first()
    if unit is None:
        raise UnitNotFound()
    return unit


# One query, the hours joined: every unit page, slots list and booking starts with it.
_ACTIVE_UNIT = (
    select(Unit)
    .where(Unit.public_id == bindparam("public_id"), Unit.active.is_(True))
    .options(joinedload(Unit.opening_ranges))
)


def lock_unit(unit_id: int) -> Unit:
    """In a write transaction: the unit's row locked until commit (PostgreSQL FOR UPDATE;
    SQLite's writer lock already serialises), read afresh with its hours.

    Every write that touches a unit's bookings, closures, hours or desks locks the unit
    first: they queue in one order (no deadlock) and each sees what the previous committed.
    """
    statement = select(Unit).where(Unit.id == unit_id).with_for_update()
    return cast(
        Unit, db.session.scalar(fresh(statement.options(selectinload(Unit.opening_ranges))))
    )


def lock_unit_version(unit_id: int) -> datetime | None:
    """Lock the unit's row like `lock_unit`; only return its `updated_at`, which every change
    to its hours, desks or closures moves."""
    return cast(datetime | None, run(_UNIT_VERSION, {"unit": unit_id}).scalar())


_unit = Unit.__table__.c
_UNIT_VERSION = select(_unit.updated_at).where(_unit.id == bindparam("unit")).with_for_update()


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
    filtered = bool(search.q or search.postcode or search.department)
    return _search_near(query, search.near, search.limit, search.offset, filtered)


def _filtered(search: UnitSearch) -> Select[Unit]:
    """Active units narrowed by text (a postcode when it is one), postcode and département."""
    query = select(Unit).where(Unit.active.is_(True))
    typed_postcode = _POSTCODE.match(search.q)
    for word in [] if typed_postcode else search_words(search.q):
        query = query.where(Unit.search_key.contains(word, autoescape=True))
    for postcode in filter(None, [search.postcode, typed_postcode and typed_postcode.group(1)]):
        query = query.where(Unit.postcode.startswith(postcode, autoescape=True))
    if search.department:
        query = query.where(Unit.department == search.department.upper())
    return query


def _search_near(
    query: Select[Unit], point: Point, limit: int, offset: int, filtered: bool
) -> tuple[list[UnitHit], int]:
    """Units with coordinates, nearest first (the filters' units only, when filtered)."""
    among = set(db.session.scalars(select(query.subquery().c.id))) if filtered else None
    page, total = nearest(point, limit, offset, among)
    return _hits(page), total


def units_around(
    point: Point, limit: int, offset: int = 0, cap: int = 50, department: str = ""
) -> tuple[list[UnitHit], int]:
    """The active units nearest a point: one page of the `cap` nearest, and how many; with
    a `department`, those of its territory when it has any (no crossing the sea)."""
    page, total = nearest(point, max(0, min(limit, cap - offset)), offset, department=department)
    return _hits(page), min(total, cap)


def _hits(page: list[tuple[int, float]]) -> list[UnitHit]:
    """Load the units of a page of (id, distance), keeping its order."""
    units = {
        unit.id: unit
        for unit in db.session.scalars(
            select(Unit)
            .where(Unit.id.in_([unit_id for unit_id, _ in page]))
            .options(selectinload(Unit.opening_ranges))
        )
    }
    return [UnitHit(units[unit_id], distance) for unit_id, distance in page if unit_id in units]

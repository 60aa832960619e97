"""The open-data export: CSV in the official layout, Table Schema, GeoJSON, with versions."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from booking.domain.hours import osm_opening_hours
from booking.domain.units_csv import UnitRecord, write_units
from booking.extensions import db
from booking.models import Unit
from booking.services.units.reading import hours_by_unit


@dataclass(frozen=True)
class Exported:
    """One rendering of a resource, with what conditional GET needs."""

    body: bytes
    etag: str
    last_modified: datetime


_EXPORTED_COLUMNS = (
    Unit.id,
    Unit.public_id,
    Unit.name,
    Unit.address,
    Unit.phone,
    Unit.department,
    Unit.insee,
    Unit.street,
    Unit.postcode,
    Unit.commune,
    Unit.longitude,
    Unit.latitude,
    Unit.url,
    Unit.desks,
    Unit.timezone,
    Unit.updated_at,
)


@dataclass(frozen=True)
class ExportedUnit:
    """What the open data says of one unit."""

    record: UnitRecord
    desks: int
    timezone: str
    updated_at: datetime


def active_units() -> list[ExportedUnit]:
    """Every active unit with its hours, by identifier; plain rows, no ORM objects (fast)."""
    hours = hours_by_unit()
    rows = db.session.execute(
        select(*_EXPORTED_COLUMNS).where(Unit.active.is_(True)).order_by(Unit.public_id)
    )
    return [
        ExportedUnit(
            record=UnitRecord(
                public_id=row.public_id,
                name=row.name,
                address=row.address,
                phone=row.phone,
                department=row.department,
                insee=row.insee,
                street=row.street,
                postcode=row.postcode,
                commune=row.commune,
                longitude=row.longitude,
                latitude=row.latitude,
                url=row.url,
                hours=hours.get(row.id, ({}, None))[0],  # the hours in force
            ),
            desks=row.desks,
            timezone=row.timezone,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def export_csv() -> bytes:
    """The active units in the official structured layout."""
    return write_units(unit.record for unit in active_units())


def dataset_version() -> tuple[int, int, datetime]:
    """Changes whenever a unit is created, edited, deactivated or reactivated."""
    count, active, latest = db.session.execute(
        select(
            func.count(Unit.id), func.count(Unit.id).filter(Unit.active), func.max(Unit.updated_at)
        )
    ).one()
    latest = latest or datetime(2019, 1, 1, tzinfo=UTC)
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return count, active, latest


_cache_lock = threading.Lock()


def cached_export(kind: str) -> Exported:
    """The rendering of `csv` or `geojson`, rebuilt only when the dataset has changed."""
    version = dataset_version()
    cache: dict[str, tuple[tuple[int, int, datetime], Exported]]
    cache = current_app.extensions.setdefault("opendata_cache", {})
    with _cache_lock:
        hit = cache.get(kind)
        if hit and hit[0] == version:
            return hit[1]
    body = export_csv() if kind == "csv" else _geojson_bytes()
    exported = Exported(
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=version[2].replace(microsecond=0),
    )
    with _cache_lock:
        cache[kind] = (version, exported)
    return exported


def geojson() -> dict[str, Any]:
    """A FeatureCollection of the active units, with OSM `opening_hours`."""
    features = []
    for unit in active_units():
        record = unit.record
        geometry = (
            {"type": "Point", "coordinates": [record.longitude, record.latitude]}
            if record.latitude is not None and record.longitude is not None
            else None
        )
        features.append(
            {
                "type": "Feature",
                "id": record.public_id,
                "geometry": geometry,
                "properties": {
                    "identifiant_public_unite": record.public_id,
                    "name": record.name,
                    "address": record.address,
                    "postcode": record.postcode,
                    "commune": record.commune,
                    "insee": record.insee,
                    "department": record.department,
                    "phone": record.phone,
                    "url": record.url,
                    "desks": unit.desks,
                    "opening_hours": osm_opening_hours(record.hours),
                    "timezone": unit.timezone,
                    "last_modified": unit.updated_at.date().isoformat(),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _geojson_bytes() -> bytes:
    """The GeoJSON document, compact UTF-8."""
    return json.dumps(geojson(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

"""The active units nearest a point: every located unit's coordinates kept in memory per
process, and the distances to all of them computed at once (numpy), about 0.1 ms for the
3,111 units of the dataset; then only the page asked for is loaded."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from booking.domain.geo import EARTH_RADIUS_KM, Point
from booking.extensions import db
from booking.models import Unit
from booking.services.places.memo import Memo


@dataclass(frozen=True)
class UnitPoints:
    """Ids and coordinates (radians) of the active units that have a point."""

    ids: NDArray[np.int64]
    latitudes: NDArray[np.float64]
    longitudes: NDArray[np.float64]

    def distances(self, point: Point) -> NDArray[np.float64]:
        """Great-circle distance (km) from `point` to every unit, as domain.geo computes it."""
        lat, lon = np.radians(point[0]), np.radians(point[1])
        h = (
            np.sin((self.latitudes - lat) / 2) ** 2
            + np.cos(lat) * np.cos(self.latitudes) * np.sin((self.longitudes - lon) / 2) ** 2
        )
        distances: NDArray[np.float64] = (
            2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        )
        return distances


def _build() -> UnitPoints:
    """The located active units, from plain rows."""
    rows = db.session.execute(
        select(Unit.id, Unit.latitude, Unit.longitude)
        .where(Unit.active.is_(True), Unit.latitude.is_not(None), Unit.longitude.is_not(None))
        .order_by(Unit.id)
    ).all()
    return UnitPoints(
        np.array([row[0] for row in rows], dtype=np.int64),
        np.radians(np.array([row[1] for row in rows], dtype=np.float64)),
        np.radians(np.array([row[2] for row in rows], dtype=np.float64)),
    )


def _version() -> tuple[int, datetime | None]:
    """Changes when a unit is created, moved, deactivated or reactivated."""
    count, latest = db.session.execute(
        select(func.count(Unit.id), func.max(Unit.updated_at)).where(Unit.active.is_(True))
    ).one()
    return int(count), latest


POINTS: Memo[UnitPoints] = Memo("unit_points", _build, _version, 1.0)


def nearest(
    point: Point, limit: int, offset: int = 0, among: Collection[int] | None = None
) -> tuple[list[tuple[int, float]], int]:
    """(unit id, distance in km) of the nearest active units, nearest first, one page of
    them; and how many are ranked in all. `among` keeps only some units."""
    units = POINTS.get()
    distances = units.distances(point)
    ids = units.ids
    if among is not None:
        keep = np.isin(ids, np.fromiter(among, dtype=np.int64, count=len(among)))
        ids, distances = ids[keep], distances[keep]
    order = np.argsort(distances, kind="stable")[offset : offset + limit]
    page = [(int(ids[i]), round(float(distances[i]), 2)) for i in order]
    return page, len(ids)

"""Distances on the Earth's surface: enough for "the nearest units" among a few thousand."""

from __future__ import annotations

import math
from typing import Final

EARTH_RADIUS_KM: Final = 6371.0088  # the mean radius (IUGG)

Point = tuple[float, float]  # (latitude, longitude), WGS84 degrees


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))

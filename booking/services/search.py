"""Units found for a citizen or a partner, each with its next free slot for a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.slots import Slot
from booking.models import Reason, Unit
from booking.services.slots import first_slots
from booking.services.units import UnitSearch, search_units

NEARBY_SCAN = 30  # units looked at around a unit with no slot, to find a few that have one


@dataclass(frozen=True)
class Found:
    """A unit found, its distance to the point searched, its next slot for the reason."""

    unit: Unit
    distance_km: float | None = None
    next_slot: Slot | None = None


@dataclass(frozen=True)
class Results:
    """One page of units found, and how many match in all."""

    items: list[Found]
    total: int


def search_with_next_slots(
    search: UnitSearch, reason: Reason | None, now: datetime | None = None
) -> Results:
    """A page of units matching the search, with their next slot when a reason is given."""
    hits, total = search_units(search)
    firsts = first_slots([hit.unit for hit in hits], reason, now) if reason else {}
    items = [Found(hit.unit, hit.distance_km, firsts.get(hit.unit.id)) for hit in hits]
    return Results(items, total)


def nearby_with_slots(
    unit: Unit, reason: Reason, count: int = 5, now: datetime | None = None
) -> list[Found]:
    """The nearest other units that do have a slot for the reason (none has one here)."""
    if unit.latitude is None or unit.longitude is None:
        return []
    around = UnitSearch(near=(unit.latitude, unit.longitude), limit=NEARBY_SCAN)
    found = search_with_next_slots(around, reason, now).items
    return [item for item in found if item.unit.id != unit.id and item.next_slot][:count]

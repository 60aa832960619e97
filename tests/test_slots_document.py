"""The slots answer, written directly, is the JSON the json module writes for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.slots import Slot
from booking.web.api import slots_document
from booking.web.schemas import SlotsOut


def encoded(
    unit_id: str, motif: str, timezone: str, slots: list[Slot], mode: str = "on_site"
) -> bytes:
    """What the endpoint wrote before: a dictionary given to json.dumps."""
    body = {
        "unit_id": unit_id,
        "motif": motif,
        "mode": mode,
        "timezone": timezone,
        "slots": [
            {"start": s.start.isoformat(), "end": s.end.isoformat(), "available": s.available}
            for s in slots
        ],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("zone", "unit_id"),
    [
        ("Europe/Paris", "01281-01"),
        ("America/Cayenne", "97302-01"),
        ("Pacific/Noumea", "98818-01"),
        ("Asia/Kolkata", 'quote " back \\ é \u2028 \x01'),  # odd offsets and odd text
    ],
)
def test_the_written_answer_is_the_encoded_one(zone: str, unit_id: str) -> None:
    tz = ZoneInfo(zone)
    first = datetime(2026, 3, 29, 0, 30, tzinfo=UTC).astimezone(tz)  # across a DST change
    slots = [
        Slot(first + timedelta(minutes=30 * n), first + timedelta(minutes=30 * (n + 1)), n % 3)
        for n in range(12)
    ]
    slots.append(Slot(first.replace(microsecond=5), first + timedelta(hours=9), 1))
    assert slots_document(unit_id, "signalement", zone, slots) == encoded(
        unit_id, "signalement", zone, slots
    )
    assert slots_document(unit_id, "otv", zone, []) == encoded(unit_id, "otv", zone, [])
    assert slots_document(unit_id, "otv", zone, slots, "video") == encoded(
        unit_id, "otv", zone, slots, "video"
    )
    # The schema that documents the answer reads it back, value for value.
    read = SlotsOut.model_validate_json(slots_document(unit_id, "signalement", zone, slots))
    assert (read.unit_id, read.motif, read.timezone) == (unit_id, "signalement", zone)
    assert [(s.start.isoformat(), s.end.isoformat(), s.available) for s in read.slots] == [
        (s.start.isoformat(), s.end.isoformat(), s.available) for s in slots
    ]

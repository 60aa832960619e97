"""Parallel clients through the HTTP server: the database never lets a unit overbook."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, BookingStatus, Unit
from tests.support.server import Server

ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}
AHEAD = 4  # slots skipped: the first ones may leave the notice window during a slow run


@pytest.fixture
def server(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with 4 worker processes on the test's database."""
    started = Server(database_uri, tmp_path / "instance")
    yield started
    started.stop()


def fire(server: Server, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Send every booking at the same instant, each on its own connection and thread."""
    barrier = threading.Barrier(len(bodies))

    def one(body: dict[str, Any]) -> tuple[int, Any]:
        barrier.wait()
        return server.request("POST", "/api/v1/bookings", body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def free_slots(server: Server, unit_id: str, motif: str) -> list[dict[str, Any]]:
    """Offered slots with every desk free."""
    status, body = server.request("GET", f"/api/v1/units/{unit_id}/slots?motif={motif}")
    assert status == 200, body
    return body["slots"]


def body(unit_id: str, motif: str, start: str, n: int) -> dict[str, Any]:
    """A booking request from citizen number n."""
    return {
        "unit_id": unit_id,
        "motif": motif,
        "start": start,
        "name": f"Citoyen {n}",
        "email": f"citoyen{n}@example.org",
    }


def confirmed(app: Flask, unit: Unit) -> list[tuple[datetime, datetime]]:
    """Intervals of the unit's confirmed bookings."""
    with app.app_context():
        rows = db.session.execute(
            select(Booking.starts_at, Booking.ends_at).where(
                Booking.unit_id == unit.id, Booking.status == BookingStatus.CONFIRMED
            )
        ).all()
    return [(start, end) for start, end in rows]


def peak(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    """Most intervals in progress at one instant of [start, end)."""
    instants = {start} | {s for s, _ in intervals if start < s < end}
    return max(sum(1 for s, e in intervals if s <= t < e) for t in instants)


@pytest.mark.parametrize("round_", range(3))
def test_last_place_goes_to_exactly_one_of_many(
    app: Flask, server: Server, create_unit: Callable[..., Unit], round_: int
) -> None:
    unit = create_unit(public_id=f"RACE{round_}", desks=1, hours=ALWAYS_OPEN)
    # A few slots ahead: the first ones leave the 2-hour notice while a slow run goes on.
    start = free_slots(server, unit.public_id, "signalement")[AHEAD + round_]["start"]
    results = fire(server, [body(unit.public_id, "signalement", start, n) for n in range(16)])
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 15}, results
    assert all(reply["error"] == "slot_unavailable" for status, reply in results if status == 409)
    assert len(confirmed(app, unit)) == 1


def test_mixed_durations_on_several_desks_never_overbook(
    app: Flask, server: Server, create_unit: Callable[..., Unit]
) -> None:
    unit = create_unit(public_id="MIXED", desks=2, hours=ALWAYS_OPEN)
    hour = free_slots(server, unit.public_id, "faits_auteur_connu")[AHEAD]["start"]  # 60 minutes
    half = (datetime.fromisoformat(hour) + timedelta(minutes=30)).isoformat()
    requests = [
        body(unit.public_id, motif, start, n)
        for n, (motif, start) in enumerate(
            [("faits_auteur_connu", hour)] * 6
            + [("signalement", hour)] * 6
            + [("signalement", half)] * 6
        )
    ]
    results = fire(server, requests)
    assert {status for status, _ in results} <= {201, 409}, results
    intervals = confirmed(app, unit)
    first = datetime.fromisoformat(hour)
    window_end = first + timedelta(minutes=60)
    assert peak(intervals, first, window_end) <= 2  # the invariant
    # Every refusal was deserved: each refused interval meets an instant with both desks taken.
    for (status, _), request in zip(results, requests, strict=True):
        if status == 409:
            start = datetime.fromisoformat(request["start"])
            minutes = 60 if request["motif"] == "faits_auteur_connu" else 30
            assert peak(intervals, start, start + timedelta(minutes=minutes)) == 2
    assert sum(1 for status, _ in results if status == 201) == len(intervals)

"""Two capacities under races (SPEC §12): citizens booking the last desk and the last
remote line of a slot at the same instant, through gunicorn's worker processes; an
administrator lowering the lines while calls are booked. Whatever wins, one winner per
seat, and the database never holds more visits of a capacity than the unit has."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.domain.capacity import draws_on
from booking.domain.instants import Interval
from booking.domain.occupancy import over_capacity
from booking.errors import ServiceError
from booking.extensions import db
from booking.models import ACTIVE_STATUSES, Booking, Unit
from booking.services.units.capacities import Capacities, set_capacities
from tests.support.server import Server

ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}
ROUNDS = 4
PER_MODE = 3


@pytest.fixture
def server(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with 4 worker processes on the test's database."""
    started = Server(database_uri, tmp_path / "instance", workers=4)
    yield started
    started.stop()


def starts(server: Server, unit: Unit) -> list[str]:
    """Offered starts, a few hours ahead."""
    status, body = server.request("GET", f"/api/v1/units/{unit.public_id}/slots?motif=signalement")
    assert status == 200, body
    return [slot["start"] for slot in body["slots"]][8:]


def booking(server: Server, unit: Unit, start: str, mode: str, email: str) -> int:
    body = {
        "unit_id": unit.public_id,
        "motif": "signalement",
        "mode": mode,
        "start": start,
        "name": "Camille Martin",
        "email": email,
        "phone": "06 12 34 56 78",
    }
    return int(server.request("POST", "/api/v1/bookings", body)[0])


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same instant; their outcomes, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except ServiceError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_within_capacities(app: Flask, unit: Unit) -> None:
    """No instant with more visits of a capacity than the unit has of it."""
    with app.app_context():
        current = db.session.get(Unit, unit.id)
        visits = list(
            db.session.scalars(
                select(Booking)
                .where(
                    Booking.unit_id == unit.id,
                    Booking.status.in_(ACTIVE_STATUSES),
                    Booking.ends_at > datetime.now(UTC),
                )
                .order_by(Booking.created_at, Booking.id)
            )
        )
        seats = {"desks": current.desks, "remote_lines": current.remote_lines}
    for capacity, count in seats.items():
        drawing = [Interval(v.starts_at, v.ends_at) for v in visits if draws_on(v.mode) == capacity]
        assert over_capacity(drawing, count) == [], capacity


def test_the_last_desk_and_the_last_line_each_go_to_one(
    app: Flask, server: Server, create_unit: Callable[..., Unit]
) -> None:
    unit = create_unit(public_id="RACE-MODES", desks=1, remote_lines=1, hours=ALWAYS_OPEN)
    offered = starts(server, unit)
    for round_ in range(ROUNDS):
        start = offered[round_ * 4]
        calls = [
            partial(booking, server, unit, start, mode, f"{mode}{round_}-{n}@e.org")
            for mode in ("video", "on_site")
            for n in range(PER_MODE)
        ]
        outcomes = at_once(calls)
        video, on_site = outcomes[:PER_MODE], outcomes[PER_MODE:]
        assert sorted(video) == [201, 409, 409], outcomes  # one line: one call
        assert sorted(on_site) == [201, 409, 409], outcomes  # one desk: one visit
        assert_within_capacities(app, unit)


def test_fewer_lines_racing_phone_bookings(
    app: Flask, server: Server, create_unit: Callable[..., Unit]
) -> None:
    unit = create_unit(public_id="RACE-LINES", desks=1, remote_lines=2, hours=ALWAYS_OPEN)
    offered = starts(server, unit)
    outcomes = []
    for round_ in range(ROUNDS):
        with app.app_context():
            set_capacities(None, unit.id, Capacities(remote_lines=2))
        start = offered[round_ * 4]

        def lower() -> Any:
            with app.app_context():
                return set_capacities(None, unit.id, Capacities(remote_lines=1))

        calls: list[Callable[[], Any]] = [
            partial(booking, server, unit, start, "phone", f"p{round_}-{n}@e.org") for n in range(4)
        ]
        results = at_once([*calls, lower])
        assert set(results[:-1]) <= {201, 409}, results
        outcomes.append((results[:-1].count(201), type(results[-1]).__name__))
        assert_within_capacities(app, unit)
    assert any(made for made, _ in outcomes)

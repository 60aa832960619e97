"""Staff changes racing bookings: whatever wins, the desk rule, closures and hours hold.

Each round fires, at the same instant, citizens booking one slot through gunicorn (several
worker processes) and one staff change made by the service in this process (its own
database connection): fewer desks, a closure over the slot, hours without its day, or a
booking moved onto it. Afterwards the database must show no instant with more active
visits than desks, no active visit in a closure, none outside the hours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.domain.instants import Interval
from booking.domain.occupancy import over_capacity
from booking.domain.slots import within_opening_hours
from booking.errors import ServiceError
from booking.extensions import db
from booking.keys import derive
from booking.models import ACTIVE_STATUSES, Booking, Closure, StaffUser, Unit
from booking.services.bookings.change import move_booking
from booking.services.staff.accounts import create_staff
from booking.services.units import settings as unit_settings
from booking.services.units.reading import weekly_hours
from booking.tokens import hash_token, link_token
from tests.support.keys import SECRET_KEY
from tests.support.server import Server
from tests.support.staff import PASSWORD

ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}
ROUNDS = 8
CITIZENS = 6


@pytest.fixture
def server(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with 4 worker processes on the test's database."""
    started = Server(database_uri, tmp_path / "instance", workers=4)
    yield started
    started.stop()


@pytest.fixture
def admin(app: Flask) -> StaffUser:
    """The staff member making the changes."""
    with app.app_context():
        user = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        db.session.expunge(user)
    return user


def race(book: Callable[[int], Any], change: Callable[[], Any]) -> tuple[list[Any], Any]:
    """Run CITIZENS bookings and one change at the same instant; their outcomes."""
    barrier = threading.Barrier(CITIZENS + 1)

    def citizen(n: int) -> Any:
        barrier.wait()
        return book(n)

    def staff() -> Any:
        barrier.wait()
        try:
            return change()
        except ServiceError as refused:  # a conflict to try again is a fair outcome
            return refused

    with ThreadPoolExecutor(max_workers=CITIZENS + 1) as pool:
        staff_outcome = pool.submit(staff)
        booked = list(pool.map(citizen, range(CITIZENS)))
        return booked, staff_outcome.result()


def active(app: Flask, unit: Unit) -> list[Booking]:
    """The unit's active visits not over yet, oldest booked first."""
    with app.app_context():
        found = list(
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
        db.session.expunge_all()
        return found


def assert_invariants(app: Flask, unit: Unit) -> None:
    """No instant over the desks, no visit in a closure, none outside the hours."""
    visits = active(app, unit)
    with app.app_context():
        current = db.session.get(Unit, unit.id)
        desks, hours = current.desks, weekly_hours(current)
        closures = list(db.session.scalars(select(Closure).where(Closure.unit_id == unit.id)))
    assert over_capacity([Interval(v.starts_at, v.ends_at) for v in visits], desks) == []
    for visit in visits:
        assert not any(
            c.starts_at < visit.ends_at and visit.starts_at < c.ends_at for c in closures
        )
        assert within_opening_hours(hours, unit.department, visit.starts_at, visit.ends_at)


def booker(server: Server, unit: Unit, start: str, round_: int) -> Callable[[int], int]:
    """A citizen booking `start` (each with an address of their own)."""

    def book(n: int) -> int:
        body = {"unit_id": unit.public_id, "motif": "signalement", "start": start}
        body |= {"name": f"Citoyen {n}", "email": f"c{round_}-{n}@example.org"}
        return server.request("POST", "/api/v1/bookings", body)[0]

    return book


def free_starts(server: Server, unit: Unit) -> list[str]:
    """Offered starts of the unit, a few hours ahead (clear of the notice window)."""
    status, body = server.request("GET", f"/api/v1/units/{unit.public_id}/slots?motif=signalement")
    assert status == 200, body
    return [slot["start"] for slot in body["slots"]][8:]


def test_fewer_desks_racing_bookings(
    app: Flask, server: Server, create_unit: Callable[..., Unit], admin: StaffUser
) -> None:
    unit = create_unit(public_id="RACE-DESKS", desks=2, hours=ALWAYS_OPEN)
    starts = free_starts(server, unit)
    outcomes = []
    for round_ in range(ROUNDS):
        with app.app_context():
            unit_settings.change_hours(admin, db.session.get(Unit, unit.id), ALWAYS_OPEN, 2, True)

        def lower() -> Any:
            with app.app_context():
                target = db.session.get(Unit, unit.id)
                return unit_settings.change_hours(admin, target, ALWAYS_OPEN, 1, True)

        booked, change = race(booker(server, unit, starts[round_ * 2], round_), lower)
        assert set(booked) <= {201, 409}, booked
        outcomes.append((booked.count(201), type(change).__name__))
        assert_invariants(app, unit)
    assert any(made for made, _ in outcomes)  # bookings did go through in some rounds


def test_a_closure_racing_bookings_of_its_slot(
    app: Flask, server: Server, create_unit: Callable[..., Unit], admin: StaffUser
) -> None:
    unit = create_unit(public_id="RACE-CLOSED", desks=3, hours=ALWAYS_OPEN)
    starts = free_starts(server, unit)
    for round_ in range(ROUNDS):
        start = datetime.fromisoformat(starts[round_ * 2])

        def close(start: datetime = start) -> Any:
            with app.app_context():
                target = db.session.get(Unit, unit.id)
                end = start + timedelta(minutes=30)
                return unit_settings.add_closure(admin, target, start, end, "Travaux", True)

        booked, _ = race(booker(server, unit, start.isoformat(), round_), close)
        assert set(booked) <= {201, 409}, booked
        assert_invariants(app, unit)


def test_new_hours_racing_bookings(
    app: Flask, server: Server, create_unit: Callable[..., Unit], admin: StaffUser
) -> None:
    unit = create_unit(public_id="RACE-HOURS", desks=3, hours=ALWAYS_OPEN)
    starts = free_starts(server, unit)
    for round_ in range(ROUNDS):
        start = datetime.fromisoformat(starts[round_ * 2])
        with app.app_context():
            unit_settings.change_hours(admin, db.session.get(Unit, unit.id), ALWAYS_OPEN, 3, True)
        closed_day = {day: ranges for day, ranges in ALWAYS_OPEN.items() if day != start.weekday()}
        closed_day[7] = []  # nor on a public holiday

        def shut(closed_day: dict[int, list[tuple[int, int]]] = closed_day) -> Any:
            with app.app_context():
                target = db.session.get(Unit, unit.id)
                return unit_settings.change_hours(admin, target, closed_day, 3, True)

        booked, _ = race(booker(server, unit, start.isoformat(), round_), shut)
        assert set(booked) <= {201, 409}, booked
        assert_invariants(app, unit)


def test_a_move_racing_bookings_of_the_last_place(
    app: Flask,
    server: Server,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> None:
    unit = create_unit(public_id="RACE-MOVE", desks=1, hours=ALWAYS_OPEN)
    starts = free_starts(server, unit)
    for round_ in range(ROUNDS):
        target = starts[round_ * 2]
        elsewhere = datetime.fromisoformat(starts[-1 - round_])
        uid = f"move-{round_}@rdv.test"
        token = link_token(uid, derive(SECRET_KEY, "links"))
        moved = create_booking(
            unit, elsewhere, ics_uid=uid, token_hash=hash_token(token), email=f"m{round_}@ex.org"
        )

        def move(reference: str = moved.reference, token: str = token, to: str = target) -> Any:
            with app.app_context():
                return move_booking(reference, token, to)

        booked, _ = race(booker(server, unit, target, round_), move)
        assert set(booked) <= {201, 409}, booked
        assert_invariants(app, unit)

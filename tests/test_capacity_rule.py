"""The capacity rule in the database: the triggers and the services' reads apply the shared
truth table (tests/support/capacity.py) row for row, on each engine; a hold past its expiry
frees its slot at once, whether or not the job runner has marked it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from booking.db_rules import is_overbooking
from booking.domain.capacity import draws_on, holds_capacity
from booking.extensions import db
from booking.models import Booking, BookingStatus, Unit
from booking.services.slots.read import read_busy, read_unit_days
from tests.support.capacity import BASE, CASES, Asked, Existing, Seats, at


def _lay(
    create_booking: Callable[..., Booking], unit: Unit, existing: list[Existing], now: datetime
) -> None:
    """Write the bookings already there straight to the database."""
    for e in existing:
        create_booking(
            unit,
            at(e.start),
            minutes=e.minutes,
            status=e.status,
            hold_expires_at=e.expiry(now),
            mode=e.mode,
        )


@pytest.mark.parametrize(("seats", "existing", "new", "expected"), CASES)
def test_the_trigger_applies_the_truth_table_to_an_insert(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    seats: Seats,
    existing: list[Existing],
    new: Asked,
    expected: bool,
) -> None:
    unit = create_unit(desks=seats.desks, remote_lines=seats.lines)
    _lay(create_booking, unit, existing, datetime.now(UTC))
    if expected:
        create_booking(unit, at(new.start), minutes=new.minutes, mode=new.mode)
        return
    with pytest.raises(DBAPIError) as error:
        create_booking(unit, at(new.start), minutes=new.minutes, mode=new.mode)
    assert is_overbooking(error.value)


@pytest.mark.parametrize(("seats", "existing", "new", "expected"), CASES)
def test_the_trigger_applies_the_truth_table_to_an_update(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    seats: Seats,
    existing: list[Existing],
    new: Asked,
    expected: bool,
) -> None:
    """A cancelled booking elsewhere, brought back as confirmed at the time asked in the
    mode asked: the trigger of updates (a separate one on SQLite) decides alike."""
    unit = create_unit(desks=seats.desks, remote_lines=seats.lines)
    _lay(create_booking, unit, existing, datetime.now(UTC))
    moved = create_booking(unit, at(-600), status=BookingStatus.CANCELLED_BY_CITIZEN)
    with app.app_context():
        row = db.session.scalar(select(Booking).where(Booking.id == moved.id))
        row.starts_at, row.ends_at = at(new.start), at(new.start + new.minutes)
        row.status, row.mode = BookingStatus.CONFIRMED, new.mode
        if expected:
            db.session.commit()
            return
        with pytest.raises(DBAPIError) as error:
            db.session.commit()
        assert is_overbooking(error.value)
        db.session.rollback()


@pytest.mark.parametrize(("seats", "existing", "new", "expected"), CASES)
def test_the_reads_see_the_bookings_the_rule_counts(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    seats: Seats,
    existing: list[Existing],
    new: Asked,
    expected: bool,
) -> None:
    """Both reads of the slot engine return exactly the bookings `holds_capacity` keeps
    among those drawing on the capacity of the mode asked, and that capacity."""
    unit = create_unit(desks=seats.desks, remote_lines=seats.lines)
    now = datetime.now(UTC)
    _lay(create_booking, unit, existing, now)
    holding = sorted(
        (at(e.start), at(e.start + e.minutes))
        for e in existing
        if holds_capacity(e.status, e.expiry(now), now) and draws_on(e.mode) == draws_on(new.mode)
    )
    span = (BASE - timedelta(days=1), BASE + timedelta(days=1))
    with app.app_context():
        one = read_unit_days(unit.public_id, "signalement", span, now, mode=new.mode)
        many = read_busy([unit.id], span, now, new.mode)
        every = read_busy(None, span, now, new.mode)
    assert one is not None
    assert one.view.desks == (seats.desks if new.mode == "on_site" else seats.lines)
    for busy in (one.busy, many, every):
        found = sorted((i.start, i.end) for i in busy.bookings.get(unit.id, []))
        assert found == holding


MONDAY_9 = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.mark.parametrize("runner_marked", [False, True], ids=["unmarked", "marked"])
def test_a_slot_held_by_a_lapsed_hold_is_booked_at_once_with_no_runner(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    runner_marked: bool,
) -> None:
    """An email verification (or a waiting-list offer) nobody confirmed: once its expiry
    has passed, the slot is shown free and booking it succeeds at once, though no job
    runner has run (`runner_marked`: or once it did, the same)."""
    unit = create_unit(public_id="ORNEX", desks=1)
    now = datetime.now(UTC)
    start = datetime.combine(now.date() + timedelta(days=7), MONDAY_9.timetz())
    while start.weekday() != 0:
        start += timedelta(days=1)
    status = BookingStatus.EXPIRED if runner_marked else BookingStatus.PENDING
    create_booking(
        unit, start, status=status, reason_code="otv", hold_expires_at=now - timedelta(minutes=1)
    )
    day = start.date().isoformat()
    slots = client.get(f"/api/v1/units/ORNEX/slots?motif=otv&from={day}&to={day}").json
    starts = [datetime.fromisoformat(slot["start"]) for slot in slots["slots"]]
    assert start in starts  # shown free
    answer = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": start.isoformat(),
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert answer.status_code == 201, answer.json
    with app.app_context():
        statuses = db.session.scalars(
            select(Booking.status).where(Booking.unit_id == unit.id, Booking.starts_at == start)
        ).all()
    assert sorted(statuses) == sorted(["confirmed", status])


def test_a_live_hold_still_refuses_its_slot(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> None:
    unit = create_unit(public_id="ORNEX", desks=1)
    now = datetime.now(UTC)
    start = datetime.combine(now.date() + timedelta(days=7), MONDAY_9.timetz())
    while start.weekday() != 0:
        start += timedelta(days=1)
    create_booking(
        unit, start, status="pending", reason_code="otv", hold_expires_at=now + timedelta(hours=1)
    )
    day = start.date().isoformat()
    slots = client.get(f"/api/v1/units/ORNEX/slots?motif=otv&from={day}&to={day}").json
    assert start not in [datetime.fromisoformat(slot["start"]) for slot in slots["slots"]]
    answer = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": start.isoformat(),
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert answer.status_code == 409

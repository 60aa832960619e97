"""The database itself refuses overbooking, whatever code writes the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from booking.db_rules import CLOSED, OVERBOOKING, is_overbooking, refusal
from booking.extensions import db
from booking.models import Booking, BookingStatus, Closure, Unit

NINE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """NINE plus some minutes."""
    return NINE + timedelta(minutes=minutes)


def test_cancelled_bookings_do_not_count_and_cannot_come_back_over_the_limit(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    unit = create_unit(desks=1)
    first = create_booking(unit, at(0), status=BookingStatus.CANCELLED_BY_CITIZEN)
    create_booking(unit, at(0))
    with app.app_context():
        row = db.session.scalar(select(Booking).where(Booking.id == first.id))
        row.status = BookingStatus.CONFIRMED
        with pytest.raises(DBAPIError) as error:
            db.session.commit()
        assert is_overbooking(error.value)
        db.session.rollback()


def test_moving_a_booking_onto_a_full_time_is_refused(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    unit = create_unit(desks=1)
    create_booking(unit, at(0))
    second = create_booking(unit, at(60))
    with app.app_context():
        row = db.session.scalar(select(Booking).where(Booking.id == second.id))
        row.starts_at, row.ends_at = at(15), at(45)
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        row = db.session.scalar(select(Booking).where(Booking.id == second.id))
        row.starts_at, row.ends_at = at(90), at(120)  # a free time: allowed, itself excluded
        db.session.commit()


def test_other_units_do_not_interfere(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    one, other = create_unit(desks=1), create_unit(desks=1)
    create_booking(one, at(0))
    create_booking(other, at(0))  # the same time at another unit: accepted
    with app.app_context():
        rows = db.session.execute(select(Booking.unit_id, Booking.status)).all()
    assert sorted(rows) == sorted([(one.id, "confirmed"), (other.id, "confirmed")])


LATER = datetime(2099, 12, 1, 8, 0, tzinfo=UTC)  # well after the database's own clock


@pytest.mark.parametrize(
    ("booked", "closed", "refused"),
    [
        ((0, 60), (30, 90), True),  # the closure covers the end of the visit
        ((0, 60), (60, 120), False),  # it starts when the visit ends
        ((0, 60), (-60, 0), False),  # it ends when the visit starts
    ],
)
def test_a_closure_over_a_visit_still_to_come_is_refused(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    create_closure: Callable[..., Closure],
    booked: tuple[int, int],
    closed: tuple[int, int],
    refused: bool,
) -> None:
    unit = create_unit()
    start = LATER + timedelta(minutes=booked[0])
    create_booking(unit, start, minutes=booked[1] - booked[0])
    span = (LATER + timedelta(minutes=closed[0]), LATER + timedelta(minutes=closed[1]))
    if refused:
        with pytest.raises(DBAPIError) as error:
            create_closure(unit, *span)
        assert refusal(error.value) == CLOSED
    else:
        create_closure(unit, *span)


def test_a_visit_inside_a_closure_is_refused(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    create_closure: Callable[..., Closure],
) -> None:
    unit = create_unit(desks=3)
    create_closure(unit, LATER, LATER + timedelta(hours=2))
    with pytest.raises(DBAPIError) as error:
        create_booking(unit, LATER + timedelta(minutes=90))
    assert refusal(error.value) == CLOSED
    create_booking(unit, LATER + timedelta(hours=2))  # right after it: fine


def test_fewer_desks_than_visits_still_to_come_is_refused(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    unit = create_unit(desks=3)
    create_booking(unit, LATER)
    create_booking(unit, LATER + timedelta(minutes=15))
    with app.app_context():
        db.session.execute(update(Unit).where(Unit.id == unit.id).values(desks=2))
        db.session.commit()  # two at once at most: two desks are enough
        with pytest.raises(DBAPIError) as error:
            db.session.execute(update(Unit).where(Unit.id == unit.id).values(desks=1))
        assert refusal(error.value) == OVERBOOKING
        db.session.rollback()

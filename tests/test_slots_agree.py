"""Every place that shows slots offers the same ones: the API's slots, the unit's HTML
pages, the next slot of a search, the move page and the waiting list's matcher, for sampled
units (several zones and hours), reasons and days, with bookings, holds and a closure in
place, on each engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.extensions import db
from booking.models import Reason, Unit
from booking.services.slots.offered import last_week
from booking.services.waitlist.offers import SlotsOfRun, Wish, matching

WEEKDAYS = {day: [(480, 720), (840, 1080)] for day in range(5)}
UNITS = [
    # (département, hours, desks): metropolitan two desks, Sunday and holiday mornings,
    # Réunion (UTC+4), Nouméa (UTC+11), Tahiti (UTC−10) open all day.
    ("01", WEEKDAYS, 2),
    ("45", {**WEEKDAYS, 6: [(540, 720)], 7: [(540, 720)]}, 1),
    ("974", {day: [(450, 750)] for day in range(6)}, 1),
    ("988", WEEKDAYS, 1),
    ("987", {day: [(0, 1440)] for day in range(7)}, 1),
]
START = re.compile(r'name="(?:debut|start)" value="([^"]+)"')


@pytest.fixture
def now(frozen_now: Callable[[datetime], None]) -> datetime:
    """The real instant, frozen for the test: the database's own clock agrees with it."""
    instant = datetime.now(UTC).replace(second=0, microsecond=0)
    frozen_now(instant)
    return instant


def _busy_unit(
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Any],
    create_closure: Callable[..., Any],
    now: datetime,
    department: str,
    hours: dict[int, list[tuple[int, int]]],
    desks: int,
) -> Unit:
    """A unit with a confirmed visit, a live hold and a lapsed one, and a closure."""
    unit = create_unit(department=department, hours=hours, desks=desks)
    day = now + timedelta(days=2)
    for offset in range(0, 12 * 60, 37):  # a spread of instants, on and off the grid
        at = day + timedelta(minutes=offset)
        create_booking(unit, at, minutes=30)
    create_booking(
        unit, now + timedelta(days=3), status="pending", hold_expires_at=now + timedelta(hours=1)
    )
    create_booking(
        unit, now + timedelta(days=4), status="pending", hold_expires_at=now - timedelta(hours=1)
    )
    create_closure(unit, now + timedelta(days=6), now + timedelta(days=6, hours=5))
    return unit


def _api(client: FlaskClient, unit: Unit, motif: str) -> list[str]:
    """The API's slots over the whole horizon."""
    answer = client.get(f"/api/v1/units/{unit.public_id}/slots?motif={motif}")
    assert answer.status_code == 200
    return [slot["start"] for slot in answer.json["slots"]]


def _api_by_day(client: FlaskClient, unit: Unit, motif: str, days: list[str]) -> list[str]:
    """The API's slots asked one day at a time."""
    found = []
    for day in days:
        answer = client.get(
            f"/api/v1/units/{unit.public_id}/slots?motif={motif}&from={day}&to={day}"
        )
        found += [slot["start"] for slot in answer.json["slots"]]
    return found


def _pages(app: Flask, client: FlaskClient, path: str) -> list[str]:
    """The starts offered by every week of an HTML page (`semaine` 0..last)."""
    with app.app_context():
        weeks = last_week() + 1
    found = []
    for week in range(weeks):
        page = client.get(f"{path}semaine={week}")
        assert page.status_code == 200
        found += START.findall(page.get_data(as_text=True))
    return found


@pytest.mark.parametrize(("department", "hours", "desks"), UNITS, ids=[u[0] for u in UNITS])
@pytest.mark.parametrize("motif", ["signalement", "faits_auteur_connu"])  # 30 and 60 minutes
def test_every_place_offers_the_same_slots(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Any],
    create_closure: Callable[..., Any],
    now: datetime,
    department: str,
    hours: dict[int, list[tuple[int, int]]],
    desks: int,
    motif: str,
) -> None:
    unit = _busy_unit(create_unit, create_booking, create_closure, now, department, hours, desks)
    api = _api(client, unit, motif)
    assert api, "the sample must offer slots"
    days = sorted({start[:10] for start in api})
    assert _api_by_day(client, unit, motif, days) == api

    html = _pages(app, client, f"/unites/{unit.public_id}/creneaux?motif={motif}&")
    assert html == api

    search = client.get(f"/api/v1/units?department={department}&motif={motif}").json
    assert [item["next_slot"]["start"] for item in search["items"]] == [api[0]]

    with app.app_context():
        reason = db.session.get(Reason, motif)
        orm_unit = db.session.get(Unit, unit.id)
        wish = Wish("0123456", "ampm", now.date() + timedelta(days=400))
        matched = matching(orm_unit, reason, wish, SlotsOfRun(now))
        assert [start.astimezone(UTC) for start in matched] == [
            datetime.fromisoformat(start).astimezone(UTC) for start in api
        ]

    # A booking of the last slot, moved from its page: every other slot is offered there.
    booked = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": unit.public_id,
            "motif": motif,
            "start": api[-1],
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert booked.status_code == 201, booked.json
    link = urlparse(booked.json["cancel_url"])
    moves = _pages(app, client, f"{link.path}?{link.query}&")
    assert moves == [start for start in api if start != api[-1]]

"""The waiting room (SPEC §16) on real Redis, shared by two nodes (two applications, each its
own process state): tickets served in order across both, a forged or copied ticket refused,
an admitted journey never sent back, ticketless bookings refused with 429 (never 5xx) while
citizens wait, the page reloading itself without JavaScript."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking import create_app
from booking.extensions import db
from booking.models import Booking, Unit
from booking.services.admission import RedisStore, Rules
from booking.web import pressure
from tests.support.keys import SECRET_KEY

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
REDIS = "redis://127.0.0.1:6379/0"
SLOTS = [f"2026-11-24T{hour}:00+01:00" for hour in ("09:00", "10:00", "11:00", "14:00")]


@pytest.fixture
def app_overrides() -> Iterator[dict[str, Any]]:
    prefix = f"rdv:test:{uuid.uuid4().hex}:"
    yield {
        "ADMISSION": "on",
        "ADMISSION_CAPACITY": 1,
        "ADMISSION_REDIS_URL": REDIS,
        "ADMISSION_PREFIX": prefix,
    }
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


@pytest.fixture
def other_node(app: Flask, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    """A second node: another application on the same database and the same Redis."""
    node = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.instance_path,
            "BASE_URL": "http://rdv.test",
            "BOOKING_EMAIL_VERIFICATION": False,
            **app_overrides,
        }
    )
    yield node
    with node.app_context():
        db.session.remove()
        db.engine.dispose()  # its own pool: no connection left for the collector


def form_url(start: str) -> str:
    return f"/unites/ORNEX/rendez-vous?motif=otv&debut={start.replace('+', '%2B')}"


def opens_form(client: FlaskClient, start: str) -> tuple[bool, str]:
    """Open the booking form: (whether the form is shown, the page)."""
    page = client.get(form_url(start)).get_data(as_text=True)
    return 'name="csrf_token"' in page and "file d&#39;attente" not in page.lower(), page


def book(client: FlaskClient, start: str, page: str) -> int:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    data = {
        "csrf_token": match.group(1),
        "debut": start,
        "name": "Camille Martin",
        "email": f"{uuid.uuid4().hex[:8]}@example.org",
    }
    return client.post("/unites/ORNEX/rendez-vous?motif=otv", data=data).status_code


def bookings(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Booking.id))) or 0


@pytest.mark.usefixtures("unit")
def test_tickets_are_served_in_order_across_two_nodes(app: Flask, other_node: Flask) -> None:
    first, second, third = app.test_client(), other_node.test_client(), app.test_client()
    shown, form = opens_form(first, SLOTS[0])
    assert shown  # the room was empty: in at once
    waiting, page = opens_form(second, SLOTS[1])
    assert not waiting
    assert "Votre position : 1" in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    _, page = opens_form(third, SLOTS[2])
    assert "Votre position : 2" in page
    assert second.get("/file-d-attente").get_json()["position"] == 1
    assert book(first, SLOTS[0], form) == 303  # the place frees…
    shown, form2 = opens_form(second, SLOTS[1])  # …for the next in line, on the other node
    assert shown
    assert not opens_form(third, SLOTS[2])[0]
    assert third.get("/file-d-attente").get_json() == {
        "admitted": False,
        "position": 1,
        "minutes": None,
        "refresh": 5,
    }
    assert book(second, SLOTS[1], form2) == 303
    assert opens_form(third, SLOTS[2])[0]
    assert bookings(app) == 2


@pytest.mark.usefixtures("unit")
def test_a_forged_or_copied_ticket_counts_as_none(app: Flask, other_node: Flask) -> None:
    holder = app.test_client()
    shown, form = opens_form(holder, SLOTS[0])
    assert shown
    ticket = holder.get_cookie("rdv_file")
    assert ticket is not None
    # Copied into another browser (another User-Agent): no admission, a new place in line.
    session = holder.get_cookie("session")
    assert session is not None
    thief = other_node.test_client()
    thief.environ_base["HTTP_USER_AGENT"] = "Un autre navigateur"
    thief.set_cookie("rdv_file", ticket.value)
    thief.set_cookie("session", session.value)  # the whole browser's cookies, copied
    shown, page = opens_form(thief, SLOTS[1])
    assert not shown
    assert "Votre position : 1" in page
    assert book(thief, SLOTS[1], form) == 429
    # Carried to another network by the same browser: the same.
    moved = app.test_client()
    moved.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    moved.set_cookie("rdv_file", ticket.value)
    assert not opens_form(moved, SLOTS[2])[0]
    forged = app.test_client()
    forged.set_cookie("rdv_file", ticket.value[:-4] + "AAAA")
    assert not opens_form(forged, SLOTS[3])[0]
    assert book(holder, SLOTS[0], form) == 303  # the holder's own journey goes on
    assert bookings(app) == 1


@pytest.mark.usefixtures("unit")
def test_an_admitted_journey_is_never_sent_back(
    app: Flask, frozen_now: Callable[[datetime], None]
) -> None:
    slow = app.test_client()
    shown, form = opens_form(slow, SLOTS[0])
    assert shown
    crowd = [app.test_client() for _ in range(5)]
    for client in crowd:
        assert not opens_form(client, SLOTS[1])[0]
    # Twenty minutes to type: the place is given to the next in line meanwhile…
    frozen_now(MONDAY_7AM + timedelta(minutes=20))
    assert opens_form(crowd[0], SLOTS[1])[0]
    # …but the slow citizen, admitted, still books, and reopens the form on the way.
    shown, form = opens_form(slow, SLOTS[0])
    assert shown
    assert book(slow, SLOTS[0], form) == 303
    # One ticket, one booking: the next journey queues again.
    assert not opens_form(slow, SLOTS[3])[0]


@pytest.mark.usefixtures("unit")
def test_ticketless_bookings_get_429_while_citizens_wait(app: Flask) -> None:
    inside = app.test_client()
    assert opens_form(inside, SLOTS[0])[0]
    bot = app.test_client()
    page = app.test_client().get(form_url(SLOTS[1])).get_data(as_text=True)  # someone waits
    assert "Votre position : 1" in page
    answer = bot.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": SLOTS[2],
            "name": "Robot",
            "email": "robot@example.org",
        },
    )
    assert answer.status_code == 429
    assert answer.get_json()["error"] == "queue_first"
    assert bookings(app) == 0


@pytest.mark.usefixtures("unit")
def test_when_the_store_is_down_the_door_stays_open(app: Flask) -> None:
    app.extensions["admission"] = RedisStore("redis://127.0.0.1:9/0")  # nothing listens
    client = app.test_client()
    shown, form = opens_form(client, SLOTS[0])
    assert shown
    assert book(client, SLOTS[0], form) == 303


def test_auto_brakes_admissions_to_a_pace_while_a_node_is_slow(
    app_overrides: dict[str, Any],
) -> None:
    """`auto`: when a node answers slowly, at most ADMISSION_SLOW_PER_SECOND journeys are
    admitted a second, on every node (the flag lives in Redis for two seconds)."""
    store = RedisStore(REDIS, app_overrides["ADMISSION_PREFIX"])
    slow = Rules(capacity=100, claim=120, idle=600, slow=True, brake=2)
    calm = Rules(capacity=100, claim=120, idle=600, brake=2)
    now = 1_800_000_000.0
    places = [store.advance(now, slow, True, 0) for _ in range(5)]
    assert [place.admitted for place in places] == [True, True, False, False, False]
    assert store.advance(now + 0.5, calm, False, places[2].ticket).admitted is False  # braked
    assert store.advance(now + 1, calm, False, places[2].ticket).admitted  # the next second
    assert store.advance(now + 3, calm, False, places[4].ticket).admitted  # the flag expired


def test_the_pressure_is_the_p90_of_the_last_two_seconds() -> None:
    pressure._durations.clear()  # the answers of the tests before
    for _ in range(30):
        pressure.note(0.01)
    for _ in range(5):
        pressure.note(0.9)
    assert pressure.recent_p90() == pytest.approx(0.9)
    for _ in range(60):
        pressure.note(0.02)
    assert pressure.recent_p90() == pytest.approx(0.02)


@pytest.mark.usefixtures("unit")
def test_ticketless_bookings_have_a_quota_per_address_even_when_nobody_waits(app: Flask) -> None:
    bot = app.test_client()
    answers = []
    for n, hour in enumerate(("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")):
        answers.append(
            bot.post(
                "/api/v1/bookings",
                json={
                    "unit_id": "ORNEX",
                    "motif": "otv",
                    "start": f"2026-11-25T{hour}:00+01:00",
                    "name": "Robot",
                    "email": f"robot{n}@example.org",
                },
            ).status_code
        )
    assert 429 not in answers[:5]
    assert answers[5] == 429
    assert app.test_client().get(form_url(SLOTS[0])).status_code == 200  # people still come in


def test_the_settings_of_the_waiting_room_and_what_a_start_says(tmp_path: Any) -> None:
    from booking.config import ConfigurationError, load_config, startup_warnings

    production = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY}
    assert load_config(str(tmp_path), production)["ADMISSION_REDIS_URL"] == ""  # auto: off
    shared = load_config(str(tmp_path), {**production, "RATELIMIT_STORAGE_URI": REDIS})
    assert shared["ADMISSION"] == "auto"
    assert shared["ADMISSION_REDIS_URL"] == REDIS
    alone = load_config(str(tmp_path), {**production, "ADMISSION": "on"})
    assert any("chaque processus tient sa propre file" in w for w in startup_warnings(alone))
    with pytest.raises(ConfigurationError, match="ADMISSION vaut off, on ou auto"):
        load_config(str(tmp_path), {**production, "ADMISSION": "oui"})

"""One booking per submission: the back button, a reload, a double tap; the API's
Idempotency-Key. Sent again, a request leads to the booking already made, never a second."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, SubmittedOnce, Unit
from booking.services.bookings.once import purge_submissions
from tests.support.server import Server
from tests.support.staff import csrf

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"
FORM = "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-24T10:00:00%2B01:00"
BODY = {
    "unit_id": "ORNEX",
    "motif": "otv",
    "start": TUESDAY_10,
    "name": "Camille Martin",
    "email": "camille@example.org",
}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk; Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def bookings(app: Flask) -> list[str]:
    """References of every booking."""
    with app.app_context():
        return list(db.session.scalars(select(Booking.reference)))


def form_key(page: str) -> str:
    """The one-time key of a booking form."""
    found = re.search(r'name="cle" type="hidden" value="([^"]+)"', page)
    assert found, "no one-time key in the form"
    return found.group(1)


def send(client: FlaskClient, page: str) -> Any:
    """Submit the form of `page` with Camille's details."""
    data = {
        "csrf_token": csrf(page),
        "cle": form_key(page),
        "name": "Camille Martin",
        "email": "camille@example.org",
        "debut": TUESDAY_10,
    }
    return client.post(FORM, data=data)


@pytest.mark.usefixtures("unit")
def test_the_same_form_sent_again_leads_to_the_booking_already_made(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get(FORM).get_data(as_text=True)
    first = send(client, page)
    assert first.status_code == 303
    again = send(client, page)  # back button, then « Confirmer » again
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert len(bookings(app)) == 1
    reloaded = client.get(FORM).get_data(as_text=True)  # the form reloaded: the same key
    assert form_key(reloaded) == form_key(page)
    assert send(client, reloaded).headers["Location"] == first.headers["Location"]
    confirmation = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Votre rendez-vous est confirmé" in confirmation
    assert "plus disponible" not in confirmation
    assert len(bookings(app)) == 1


@pytest.mark.usefixtures("unit")
def test_once_cancelled_the_same_slot_can_be_booked_again(app: Flask, client: FlaskClient) -> None:
    page = client.get(FORM).get_data(as_text=True)
    confirmation = send(client, page).headers["Location"]
    reference, token = re.findall(r"/rendez-vous/(\w+)/confirme\?token=([\w-]+)", confirmation)[0]
    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token})
    assert cancelled.status_code == 200
    fresh = client.get(FORM).get_data(as_text=True)
    assert form_key(fresh) != form_key(page)
    assert send(client, fresh).status_code == 303
    assert len(bookings(app)) == 2


@pytest.mark.usefixtures("unit")
def test_a_form_sent_again_after_its_booking_was_cancelled_books_anew(
    app: Flask, client: FlaskClient
) -> None:
    """Back to the old form after cancelling: its key is spent, the slot is booked again
    (a new booking), not answered with the cancelled one; the old page says it is over."""
    page = client.get(FORM).get_data(as_text=True)
    confirmation = send(client, page).headers["Location"]
    reference, token = re.findall(r"/rendez-vous/(\w+)/confirme\?token=([\w-]+)", confirmation)[0]
    assert (
        client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token}).status_code
        == 200
    )
    over = client.get(confirmation).get_data(as_text=True)
    assert "annulé à votre demande" in over
    assert "est confirmé" not in over
    again = send(client, page)  # the old page, its old key
    assert again.status_code == 303
    assert again.headers["Location"] != confirmation
    assert len(bookings(app)) == 2
    assert send(client, page).headers["Location"] == again.headers["Location"]  # and once
    assert len(bookings(app)) == 2


@pytest.mark.usefixtures("unit")
def test_keys_are_kept_as_digests_and_replays_are_not_counted(
    app: Flask, client: FlaskClient
) -> None:
    from prometheus_client import REGISTRY

    def counted() -> float:
        return REGISTRY.get_sample_value("booking_bookings_total", {"channel": "api"}) or 0.0

    before = counted()
    headers = {"Idempotency-Key": "ma-cle-secrete-123"}
    assert client.post("/api/v1/bookings", json=BODY, headers=headers).status_code == 201
    assert client.post("/api/v1/bookings", json=BODY, headers=headers).status_code == 201
    assert counted() == before + 1
    with app.app_context():
        stored = db.session.scalar(select(SubmittedOnce.key))
    assert stored is not None
    assert "ma-cle-secrete-123" not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", stored)


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("key", ["", "court", "x" * 65, "pas une clé !", "a\u00e9" * 10])
def test_a_form_key_of_another_shape_is_ignored(app: Flask, client: FlaskClient, key: str) -> None:
    page = client.get(FORM).get_data(as_text=True)
    data = {
        "csrf_token": csrf(page),
        "cle": key,
        "name": "Camille Martin",
        "email": "camille@example.org",
        "debut": TUESDAY_10,
    }
    assert client.post(FORM, data=data).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(SubmittedOnce.id))) == 0
    assert len(bookings(app)) == 1


def test_the_session_keeps_the_newest_form_keys(
    client: FlaskClient, create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]
) -> None:
    """Eleven forms opened one after the other: the first key is the one forgotten."""
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX", desks=1, hours={d: [(0, 1440)] for d in range(7)})
    starts = [f"2026-11-24T{hour:02d}:00:00%2B01:00" for hour in range(11, 22)]
    keys = []
    for start in starts:
        page = client.get(f"/unites/ORNEX/rendez-vous?motif=otv&debut={start}")
        keys.append(form_key(page.get_data(as_text=True)))
    with client.session_transaction() as session:
        kept = [key for _, key in session["cles"]]
    assert kept == keys[1:]
    again = client.get(f"/unites/ORNEX/rendez-vous?motif=otv&debut={starts[-1]}")
    assert form_key(again.get_data(as_text=True)) == keys[-1]


@pytest.mark.usefixtures("unit")
def test_the_api_answers_a_request_sent_again_as_it_did_the_first_time(
    app: Flask, client: FlaskClient
) -> None:
    headers = {"Idempotency-Key": "9a1c8e2c-demande-1"}
    first = client.post("/api/v1/bookings", json=BODY, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/bookings", json=BODY, headers=headers)
    assert again.status_code == 201
    assert again.json == first.json
    assert len(bookings(app)) == 1
    other = client.post("/api/v1/bookings", json={**BODY, "name": "Alex"}, headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["fields"]
    without = client.post("/api/v1/bookings", json={**BODY, "email": "b@example.org"})
    assert without.status_code == 409  # no key: a new request, and the slot is taken
    with app.app_context():
        stored = db.session.scalar(select(SubmittedOnce.answer))
    assert "token=" not in stored  # the manage link's secret is derived, never stored


@pytest.mark.usefixtures("unit")
def test_a_key_is_one_client_s_own_and_tells_others_nothing(
    app: Flask, create_unit: Callable[..., Unit]
) -> None:
    """Idempotency-Keys are scoped per client (a partner's API key, else the address): the
    key another client used is, to this one, a key never seen; no 422 says it was used."""
    create_unit(public_id="GEX", desks=1)
    headers = {"Idempotency-Key": "9a1c8e2c-demande-1"}
    first, other = app.test_client(), app.test_client()
    first.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert first.post("/api/v1/bookings", json=BODY, headers=headers).status_code == 201
    theirs = {**BODY, "unit_id": "GEX", "email": "b@example.org"}
    answer = other.post("/api/v1/bookings", json=theirs, headers=headers)
    assert answer.status_code == 201  # booked: a key of its own, not 422
    assert answer.json["unit_id"] == "GEX"
    assert len(bookings(app)) == 2
    # Within one client, the rule stands: the same key with another body is a 422.
    again = first.post("/api/v1/bookings", json={**BODY, "name": "Alex"}, headers=headers)
    assert again.status_code == 422


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("key", ["", "a" * 101, "deux mots", "clé"])
def test_an_unfit_idempotency_key_is_refused(client: FlaskClient, key: str) -> None:
    response = client.post("/api/v1/bookings", json=BODY, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["fields"]


@pytest.mark.usefixtures("unit")
def test_keys_are_kept_a_day(app: Flask, client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "kept-a-day"}
    assert client.post("/api/v1/bookings", json=BODY, headers=headers).status_code == 201
    with app.app_context():
        assert purge_submissions(MONDAY_7AM + timedelta(hours=23)) == 0
        assert purge_submissions(MONDAY_7AM + timedelta(hours=25)) == 1
        assert db.session.scalar(select(func.count(SubmittedOnce.id))) == 0


@pytest.fixture
def server(app: Flask, database_uri: str, tmp_path: Path, unit: Unit) -> Iterator[Server]:
    """gunicorn with 4 workers (the clock is real there: the slot is found afresh)."""
    started = Server(database_uri, tmp_path / "instance", workers=4)
    yield started
    started.stop()


def test_a_double_tap_books_once(
    app: Flask, server: Server, create_unit: Callable[..., Unit]
) -> None:
    """The same request, sent 8 times at once to 4 processes, makes one booking."""
    unit = create_unit(public_id="TAP", desks=3, hours={d: [(0, 1440)] for d in range(8)})
    _, slots = server.request("GET", f"/api/v1/units/{unit.public_id}/slots?motif=otv")
    body = {**BODY, "unit_id": unit.public_id, "start": slots["slots"][6]["start"]}
    barrier = threading.Barrier(8)

    def tap(_: int) -> tuple[int, Any]:
        barrier.wait()
        return server.request("POST", "/api/v1/bookings", body, {"Idempotency-Key": "tap-1"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(tap, range(8)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({answer["reference"] for _, answer in answers}) == 1
    with app.app_context():
        made = db.session.scalar(select(func.count(Booking.id)).where(Booking.unit_id == unit.id))
    assert made == 1

"""The proof-of-work challenge: required when set, solved for real, usable once; partners'
API keys skip it; `auto` asks for it above the load threshold only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from altcha import Challenge, Payload, solve_challenge
from flask import Flask
from flask.testing import FlaskClient

from booking.models import Unit
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, csrf, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ADMIN = "admin@gendarmerie.interieur.gouv.fr"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Every anonymous booking carries a solved challenge."""
    return {"BOOKING_CHALLENGE": "on"}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=3)


def solved(client: FlaskClient) -> str:
    """A challenge fetched from the service and solved here, as the widget would."""
    answer = client.get("/api/v1/challenge")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    challenge = Challenge.from_dict(answer.json)
    solution = solve_challenge(challenge)
    assert solution is not None
    return Payload(challenge, solution).to_base64()


def booking(start: str = "2026-11-24T10:00:00+01:00", **extra: Any) -> dict[str, Any]:
    """An API booking request."""
    return {
        "unit_id": "ORNEX",
        "motif": "otv",
        "start": start,
        "name": "Camille Martin",
        "email": "camille@example.org",
        **extra,
    }


@pytest.mark.usefixtures("unit")
def test_an_api_booking_without_a_solved_challenge_is_refused(client: FlaskClient) -> None:
    refused = client.post("/api/v1/bookings", json=booking())
    assert refused.status_code == 403
    assert refused.json["error"] == "challenge_required"
    wrong = client.post("/api/v1/bookings", json=booking(altcha="bm90IGEgc29sdXRpb24="))
    assert wrong.status_code == 403


@pytest.mark.usefixtures("unit")
def test_a_solution_books_once_and_its_replay_is_refused(client: FlaskClient) -> None:
    payload = solved(client)
    first = client.post("/api/v1/bookings", json=booking(altcha=payload))
    assert first.status_code == 201
    replay = client.post(
        "/api/v1/bookings", json=booking("2026-11-24T11:00:00+01:00", altcha=payload)
    )
    assert replay.status_code == 403
    assert replay.json["error"] == "challenge_required"


@pytest.mark.usefixtures("unit")
def test_a_tampered_challenge_is_refused(client: FlaskClient) -> None:
    answer = client.get("/api/v1/challenge").json
    answer["parameters"]["keyPrefix"] = ""  # nothing to compute: the signature no longer holds
    challenge = Challenge.from_dict(answer)
    solution = solve_challenge(challenge)
    assert solution is not None
    forged = Payload(challenge, solution).to_base64()
    assert client.post("/api/v1/bookings", json=booking(altcha=forged)).status_code == 403


@pytest.mark.usefixtures("unit")
def test_a_partner_with_an_api_key_skips_it_until_the_key_is_revoked(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        create_staff(ADMIN, PASSWORD, [], admin=True)
    admin = app.test_client()
    sign_in(admin, ADMIN)
    page = admin.get("/staff/api-keys").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    made = admin.post(
        "/staff/api-keys", data={"csrf_token": token.group(1), "name": "Préfecture de l'Ain"}
    )
    key = re.search(
        r'<code class="api-key">(rdv_[A-Za-z0-9_-]+)</code>', made.get_data(as_text=True)
    )
    assert key
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    assert client.post("/api/v1/bookings", json=booking(), headers=headers).status_code == 201
    listing = admin.get("/staff/api-keys").get_data(as_text=True)
    assert key.group(1) not in listing  # shown once only
    revoke = re.search(r'action="(/staff/api-keys/\d+/revoke)"', listing)
    assert revoke
    admin.post(revoke.group(1), data={"csrf_token": token.group(1)})
    again = client.post(
        "/api/v1/bookings", json=booking("2026-11-24T11:00:00+01:00"), headers=headers
    )
    assert again.status_code == 403
    forged = {"Authorization": "Bearer rdv_" + "x" * 43}
    assert client.post("/api/v1/bookings", json=booking(), headers=forged).status_code == 403


@pytest.mark.usefixtures("unit")
def test_the_booking_form_asks_for_it_and_keeps_what_was_typed(client: FlaskClient) -> None:
    url = "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-24T10:00:00%2B01:00"
    page = client.get(url).get_data(as_text=True)
    assert "<altcha-widget" in page
    assert "/static/altcha/altcha.min" in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {
        "csrf_token": token.group(1),
        "debut": "2026-11-24T10:00:00+01:00",
        "name": "Camille Martin",
        "email": "camille@example.org",
    }
    refused = client.post("/unites/ORNEX/rendez-vous?motif=otv", data=data)
    assert refused.status_code == 403
    assert "La vérification anti-robot n&#39;a pas abouti" in refused.get_data(as_text=True)
    assert 'value="Camille Martin"' in refused.get_data(as_text=True)
    booked = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv", data={**data, "altcha": solved(client)}
    )
    assert booked.status_code == 303


@pytest.mark.usefixtures("unit")
def test_the_waiting_list_form_asks_for_it_too(client: FlaskClient) -> None:
    page = client.get("/unites/ORNEX/liste-attente?motif=otv").get_data(as_text=True)
    assert "<altcha-widget" in page
    data = {
        "csrf_token": csrf(page),
        "name": "Camille Martin",
        "email": "camille@example.org",
        "unites": ["ORNEX"],
        "jours": ["6"],  # Sundays, when the unit is closed: no slot is free to book instead
        "moments": ["am"],
    }
    assert client.post("/unites/ORNEX/liste-attente?motif=otv", data=data).status_code == 403
    data["altcha"] = solved(client)
    assert client.post("/unites/ORNEX/liste-attente?motif=otv", data=data).status_code == 303


@pytest.mark.parametrize(
    ("mode", "bookings_this_minute", "asked"),
    [("off", 99, False), ("auto", 0, False), ("auto", 2, True)],
)
def test_auto_asks_above_the_threshold_only(
    app: Flask,
    unit: Unit,
    create_booking: Callable[..., Any],
    mode: str,
    bookings_this_minute: int,
    asked: bool,
) -> None:
    from booking.services import challenge

    app.config.update(BOOKING_CHALLENGE=mode, BOOKING_CHALLENGE_THRESHOLD=2)
    for n in range(min(bookings_this_minute, 3)):
        create_booking(unit, datetime(2026, 11, 24, 9 + n, tzinfo=UTC), created_at=MONDAY_7AM)
    with app.app_context():
        assert challenge.required(MONDAY_7AM) is asked


@pytest.mark.usefixtures("unit")
def test_a_retry_of_an_answered_request_is_not_asked_again(client: FlaskClient) -> None:
    payload = solved(client)
    headers = {"Idempotency-Key": "essai-1"}
    body = booking(altcha=payload)
    first = client.post("/api/v1/bookings", json=body, headers=headers)
    assert first.status_code == 201
    retry = client.post("/api/v1/bookings", json=body, headers=headers)  # network retry
    assert retry.status_code == 201
    assert retry.json["reference"] == first.json["reference"]


@pytest.mark.usefixtures("unit")
def test_a_double_tap_on_the_form_lands_on_the_same_booking(client: FlaskClient) -> None:
    url = "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-24T10:00:00%2B01:00"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    key = re.search(r'name="cle" type="hidden" value="([^"]+)"', page)
    assert token
    assert key
    data = {
        "csrf_token": token.group(1),
        "cle": key.group(1),
        "debut": "2026-11-24T10:00:00+01:00",
        "name": "Camille Martin",
        "email": "camille@example.org",
        "altcha": solved(client),
    }
    first = client.post("/unites/ORNEX/rendez-vous?motif=otv", data=data)
    second = client.post("/unites/ORNEX/rendez-vous?motif=otv", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]


def test_auto_counts_the_last_minute_only(
    app: Flask, unit: Unit, create_booking: Callable[..., Any]
) -> None:
    from datetime import timedelta

    from booking.services import challenge

    app.config.update(BOOKING_CHALLENGE="auto", BOOKING_CHALLENGE_THRESHOLD=2)
    for n in range(3):
        create_booking(
            unit,
            datetime(2026, 11, 24, 9 + n, tzinfo=UTC),
            created_at=MONDAY_7AM - timedelta(minutes=2),
        )
    with app.app_context():
        assert challenge.required(MONDAY_7AM) is False

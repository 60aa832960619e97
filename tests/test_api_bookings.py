"""`POST /api/v1/bookings` and its cancel: rules, refusals, and the emails queued with them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from tests.support.mail import rendered

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk, weekdays 8–12 and 14–18; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def request(**overrides: Any) -> dict[str, Any]:
    """A valid booking request, changed by keyword."""
    body = {
        "unit_id": "ORNEX",
        "motif": "signalement",
        "start": TUESDAY_10,
        "name": "Camille Martin",
        "email": "camille@example.org",
        "phone": "06 12 34 56 78",
        "comment": "Vol de vélo",
    }
    body.update(overrides)
    return body


def outbox(app: Flask) -> list[OutboxMessage]:
    """Every queued email."""
    with app.app_context():
        entries = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return entries


def calendar_of(message: Message) -> tuple[Calendar, Message]:
    """The .ics part of an email, parsed, and the part itself."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True)), part
    raise AssertionError("no calendar part")


@pytest.mark.usefixtures("unit")
def test_booking_answers_201_with_reference_and_cancel_link(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/api/v1/bookings", json=request())
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "confirmed"
    assert body["start"] == TUESDAY_10
    assert body["end"] == "2026-11-24T10:30:00+01:00"
    assert len(body["reference"]) == 8
    assert not set(body["reference"]) & set("01OIL")
    assert body["cancel_url"].startswith(f"http://rdv.test/rendez-vous/{body['reference']}?token=")
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        assert booking.phone == "+33612345678"  # E.164
        token = body["cancel_url"].split("token=")[1]
        assert token not in booking.token_hash  # only a hash is stored
    [confirmation] = outbox(app)
    assert confirmation.kind == "confirmation"
    assert confirmation.recipient == "camille@example.org"


@pytest.mark.usefixtures("unit")
def test_confirmation_email_carries_a_request_invitation(app: Flask, client: FlaskClient) -> None:
    client.post("/api/v1/bookings", json=request())
    message = rendered(app, outbox(app)[0])
    assert message["Subject"] == (
        "Rendez-vous confirmé le mardi 24 novembre 2026 à 10 h 00 – Gendarmerie - Brigade de Ornex"
    )
    calendar, part = calendar_of(message)
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "rendez-vous.ics"
    assert str(calendar["method"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Europe/Paris"
    assert int(event["sequence"]) == 0
    assert str(event["attendee"]) == "mailto:camille@example.org"
    assert str(event["organizer"]).startswith("mailto:")
    assert "124 Rue de Béjoud" in str(event["location"])
    assert event.decoded("geo") is not None
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "Vol de vélo" not in text.get_content()  # the comment is for the unit only
    assert "Une pièce d'identité" in text.get_content()


@pytest.mark.usefixtures("unit")
def test_discreet_reason_is_neutral_in_subject_and_calendar(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/api/v1/bookings", json=request(motif="radicalisation", start=TUESDAY_10))
    message = rendered(app, outbox(app)[0])
    calendar, _ = calendar_of(message)
    everything = (
        message["Subject"]
        + str(calendar.to_ical())
        + "".join(
            part.get_content()
            for part in message.walk()
            if part.get_content_maintype() == "text"
            and part.get_content_subtype() in {"plain", "html"}
        )
    )
    assert "radicalisation" not in everything.lower()
    assert "gendarmerie" not in everything.lower()  # a discreet booking (SPEC §17)
    assert "Rendez-vous confirmé" in everything


@pytest.mark.usefixtures("unit")
def test_taken_slot_answers_409(client: FlaskClient) -> None:
    assert client.post("/api/v1/bookings", json=request()).status_code == 201
    again = client.post("/api/v1/bookings", json=request(email="autre@example.org"))
    assert again.status_code == 409
    assert again.json["error"] == "slot_unavailable"
    assert "plus disponible" in again.json["message"]


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    "start",
    [
        "2026-11-24T10:10:00+01:00",  # not on the grid
        "2026-11-24T12:00:00+01:00",  # closed at noon
        "2026-11-23T08:00:00+01:00",  # within the two hours of notice
        "2026-12-22T10:00:00+01:00",  # beyond the 28-day horizon
        "2026-11-29T10:00:00+01:00",  # a Sunday
    ],
)
def test_start_that_is_not_offered_answers_409(client: FlaskClient, start: str) -> None:
    response = client.post("/api/v1/bookings", json=request(start=start))
    assert response.status_code == 409
    assert response.json["error"] == "slot_unavailable"


@pytest.mark.usefixtures("unit")
def test_same_slot_written_in_utc_is_the_same_slot(client: FlaskClient) -> None:
    response = client.post("/api/v1/bookings", json=request(start="2026-11-24T09:00:00Z"))
    assert response.status_code == 201
    assert response.json["start"] == TUESDAY_10


@pytest.mark.usefixtures("unit")
def test_email_limit(client: FlaskClient) -> None:
    for start in (TUESDAY_10, "2026-11-24T11:00:00+01:00"):
        assert client.post("/api/v1/bookings", json=request(start=start)).status_code == 201
    third = client.post(
        "/api/v1/bookings",
        json=request(start="2026-11-25T10:00:00+01:00", email="CAMILLE@example.org"),
    )
    assert third.status_code == 409
    assert third.json["error"] == "limit_reached"


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "A"}, "name"),  # too short
        ({"name": "x" * 101}, "name"),  # too long
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+1 202 555 0100"}, "phone"),  # not a French number
        ({"comment": "x" * 501}, "comment"),
        ({"start": "demain 10h"}, "start"),
        ({"start": "2026-11-24T10:00:00"}, "start"),  # no offset
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_invalid_fields_answer_422_in_french(
    app: Flask, client: FlaskClient, changes: dict[str, str], field: str
) -> None:
    response = client.post("/api/v1/bookings", json=request(**changes))
    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert response.json["fields"][field]
    assert outbox(app) == []


@pytest.mark.usefixtures("unit")
def test_overseas_phone_is_accepted_for_an_overseas_unit(
    client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="REUNION", department="974")
    response = client.post(
        "/api/v1/bookings",
        json=request(unit_id="REUNION", start="2026-11-24T10:00:00+04:00", phone="0692 12 34 56"),
    )
    assert response.status_code == 201, response.json


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"unit_id": "NOPE"}, 404, "unit_not_found"),
        ({"motif": "nope"}, 404, "motif_not_found"),
    ],
)
def test_unknown_unit_or_reason_answers_404(
    client: FlaskClient, changes: dict[str, str], status: int, error: str
) -> None:
    response = client.post("/api/v1/bookings", json=request(**changes))
    assert response.status_code == status
    assert response.json["error"] == error


def test_body_that_is_not_json_answers_422(client: FlaskClient) -> None:
    response = client.post("/api/v1/bookings", data="unit_id=1", content_type="text/plain")
    assert response.status_code == 422
    assert response.json["error"] == "invalid"


@pytest.mark.usefixtures("unit")
def test_cancel_frees_the_slot_and_queues_a_cancel_invitation(
    app: Flask, client: FlaskClient
) -> None:
    created = client.post("/api/v1/bookings", json=request()).json
    token = created["cancel_url"].split("token=")[1]
    reference = created["reference"]
    wrong = client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    response = client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token})
    assert response.status_code == 200
    assert response.json["status"] == "cancelled_by_citizen"
    again = client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token})
    assert again.status_code == 409
    assert client.post("/api/v1/bookings", json=request(email="b@example.org")).status_code == 201
    confirmation, cancellation = outbox(app)[:2]
    calendar, part = calendar_of(rendered(app, cancellation))
    first, _ = calendar_of(rendered(app, confirmation))
    assert part.get_param("method") == "CANCEL"
    assert str(calendar["method"]) == "CANCEL"
    [event], [original] = calendar.walk("VEVENT"), first.walk("VEVENT")
    assert event["uid"] == original["uid"]
    assert int(event["sequence"]) > int(original["sequence"])
    assert str(event["status"]) == "CANCELLED"


@pytest.mark.usefixtures("unit")
def test_cancel_of_unknown_or_started_booking(
    client: FlaskClient, frozen_now: Callable[[datetime], None]
) -> None:
    created = client.post("/api/v1/bookings", json=request()).json
    token = created["cancel_url"].split("token=")[1]
    # An unknown reference and a wrong secret get the same answer: nothing tells them apart.
    unknown = client.post("/api/v1/bookings/ZZZZZZZZ/cancel", json={"token": token})
    wrong = client.post(f"/api/v1/bookings/{created['reference']}/cancel", json={"token": "x"})
    assert unknown.status_code == wrong.status_code == 403
    assert unknown.json == wrong.json
    frozen_now(datetime(2026, 11, 24, 9, 0, tzinfo=UTC) + timedelta(minutes=1))
    late = client.post(f"/api/v1/bookings/{created['reference']}/cancel", json={"token": token})
    assert late.status_code == 409
    assert "commencé" in late.json["message"]


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("body", [[1, 2], "x", 3, None])
def test_a_json_body_that_is_not_an_object_is_a_422(client: FlaskClient, body: Any) -> None:
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 422


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-12:00"])
def test_absurd_dates_are_refused_clearly(client: FlaskClient, start: str) -> None:
    response = client.post("/api/v1/bookings", json=request(start=start))
    assert response.status_code == 422
    assert "start" in response.json["fields"]
    page = client.get(f"/unites/ORNEX/rendez-vous?motif=otv&debut={start.replace('+', '%2B')}")
    assert page.status_code == 404


@pytest.mark.usefixtures("unit")
def test_an_address_that_plain_email_cannot_carry_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/bookings", json=request(email="jösé@exämple.fr"))
    assert response.status_code == 422
    assert "email" in response.json["fields"]

"""`POST /api/v1/waitlist` (SPEC §5, §11): anyone may ask, and the person confirms from the
email; a partner's entry waits at once; the answer is the same whatever the address; the
link it gives leaves the list but cannot confirm it; a freed slot is offered by email."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, BookingStatus, EntryStatus, Unit, WaitlistEntry
from booking.services.messages.outbox import send_outbox
from booking.services.staff.accounts import create_staff
from booking.services.staff.api_keys import issue_key
from booking.services.waitlist.offers import offer_freed_slots
from tests.support.smtp import SmtpServer
from tests.support.staff import PASSWORD, csrf

MONDAY_9AM = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEDNESDAY_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Paris
ONE_SLOT = {2: [(600, 630)]}  # Wednesday 10:00–10:30 only


@pytest.fixture
def app_overrides(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "BASE_URL": "http://rdv.test"}


@pytest.fixture
def taken(
    frozen_now: Callable[[datetime], None],
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> Booking:
    """A unit whose only slot of the week (by video as on site) is taken by video."""
    frozen_now(MONDAY_9AM)
    unit = create_unit(public_id="ORNEX", desks=1, remote_lines=1, hours=ONE_SLOT)
    return create_booking(unit, WEDNESDAY_10, reason_code="signalement", mode="video")


def request(**overrides: Any) -> dict[str, Any]:
    body = {
        "email": "camille@example.org",
        "motif": "signalement",
        "unit_ids": ["ORNEX"],
        "from": "2026-11-24",
        "to": "2026-11-26",
        "mode": "video",
    }
    return body | overrides


def partner_key(app: Flask) -> str:
    with app.app_context():
        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        return issue_key(admin, "Ma Sécurité")[1]


def entry(app: Flask, reference: str) -> WaitlistEntry:
    with app.app_context():
        found = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.reference == reference))
        assert found is not None
        db.session.expunge(found)
        return found


def send(app: Flask) -> None:
    with app.app_context():
        send_outbox(MONDAY_9AM)


def test_anyone_asks_and_confirms_from_the_email(
    app: Flask, client: FlaskClient, smtp: SmtpServer, taken: Booking
) -> None:
    answer = client.post("/api/v1/waitlist", json=request())
    assert answer.status_code == 201, answer.json
    assert set(answer.json) == {"id", "status", "leave_url"}
    assert answer.json["status"] == "unconfirmed"
    made = entry(app, answer.json["id"])
    assert (made.mode, made.since.isoformat(), made.until.isoformat()) == (
        "video",
        "2026-11-24",
        "2026-11-26",
    )
    assert made.weekdays == "0123456"
    assert made.parts == "ampm"
    send(app)
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["camille@example.org"]
    # The answer's link shows the entry and leaves it, but cannot confirm the address.
    page = client.get(answer.json["leave_url"].removeprefix("http://rdv.test"))
    assert page.status_code == 200
    assert "Quitter la liste d'attente" in page.text
    assert "Confirmer mon inscription" not in page.text
    # …and shows nothing of it: whoever typed the address learns neither whether its owner
    # confirmed or booked, nor the reason.
    shown = html.unescape(page.text)
    for word in ("à confirmer", "en attente", "Signaler des faits", "Ornex", "Jusqu'au"):
        assert word not in shown
    token = answer.json["leave_url"].split("token=")[1]
    forged = client.post(
        f"/liste-attente/{answer.json['id']}/confirmer",
        data={"csrf_token": csrf(page.text), "token": token},
    )
    assert forged.status_code == 403
    assert entry(app, answer.json["id"]).status == EntryStatus.UNCONFIRMED
    left = client.post(
        f"/liste-attente/{answer.json['id']}/quitter",
        data={"csrf_token": csrf(page.text), "token": token},
    )
    assert left.status_code == 303
    assert entry(app, answer.json["id"]).status == EntryStatus.LEFT


def test_the_answer_is_the_same_for_an_address_at_its_cap(
    app: Flask, client: FlaskClient, smtp: SmtpServer, taken: Booking
) -> None:
    app.config["WAITLIST_MAX_PER_EMAIL"] = 1
    partner = {"Authorization": f"Bearer {partner_key(app)}"}
    assert client.post("/api/v1/waitlist", json=request(), headers=partner).status_code == 201
    full = client.post("/api/v1/waitlist", json=request())  # camille@ already waits once
    free = client.post("/api/v1/waitlist", json=request(email="dominique@example.org"))
    assert full.status_code == free.status_code == 201
    assert set(full.json) == set(free.json)
    assert full.json["status"] == free.json["status"] == "unconfirmed"
    send(app)
    subjects = {m["To"].addresses[0].addr_spec: str(m["Subject"]) for m in smtp.messages}
    assert subjects["camille@example.org"].startswith("Liste d'attente : inscription non")
    assert not subjects["dominique@example.org"].startswith("Liste d'attente : inscription non")


def test_a_partner_waits_at_once_and_is_offered_a_freed_slot_by_email(
    app: Flask, client: FlaskClient, smtp: SmtpServer, taken: Booking
) -> None:
    key = partner_key(app)
    answer = client.post(
        "/api/v1/waitlist",
        json=request(name="Camille Martin"),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "waiting"
    with app.app_context():
        row = db.session.get(Booking, taken.id)
        row.status = BookingStatus.CANCELLED_BY_CITIZEN
        db.session.commit()
        assert offer_freed_slots(MONDAY_9AM) == 1
        offered = db.session.scalar(select(Booking).where(Booking.email == "camille@example.org"))
        assert offered is not None
        assert (offered.status, offered.mode, offered.channel, offered.name) == (
            "pending",
            "video",
            "waitlist",
            "Camille Martin",
        )
    send(app)
    subjects = [str(m["Subject"]) for m in smtp.messages if "camille" in str(m["To"])]
    assert any(subject.startswith("Un créneau s'est libéré") for subject in subjects), subjects


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "demain"}, "to"),
        ({"unit_ids": []}, "unit_ids"),
        ({"unit_ids": ["<script>"]}, "unit_ids.0"),
        ({"parts": ["soir"]}, "parts.0"),
        ({"mode": "fax"}, "mode"),
        ({"mode": "phone"}, "phone"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"extra": 1}, "extra"),
    ],
)
def test_wrong_requests_are_refused_in_french_and_write_nothing(
    app: Flask, client: FlaskClient, taken: Booking, change: dict[str, Any], field: str
) -> None:
    answer = client.post("/api/v1/waitlist", json=request(**change))
    assert answer.status_code == 422, answer.json
    assert field in answer.json["fields"], answer.json
    with app.app_context():
        assert db.session.scalar(select(WaitlistEntry.id)) is None


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"motif": "remise_arme"}, 409, "mode"),  # not held by video
        ({"from": "2026-11-27"}, 409, "from"),  # after `to`
        ({"to": "2026-11-01"}, 409, "to"),  # past
        ({"from": "2027-06-01", "to": "2027-06-02"}, 409, "from"),  # beyond the horizon
        ({"unit_ids": ["NULLE-PART"]}, 404, "unit_ids"),
        ({"unit_ids": ["NULLE-PART"], "to": "2026-11-01"}, 404, "to"),  # both said
    ],
)
def test_what_the_document_cannot_rule_out_is_a_business_answer(
    app: Flask,
    client: FlaskClient,
    taken: Booking,
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    answer = client.post("/api/v1/waitlist", json=request(**change))
    assert answer.status_code == status, answer.json
    assert field in answer.json["fields"], answer.json
    with app.app_context():
        assert db.session.scalar(select(WaitlistEntry.id)) is None


def test_free_slots_are_booked_not_waited_for(
    app: Flask, client: FlaskClient, taken: Booking
) -> None:
    answer = client.post("/api/v1/waitlist", json=request(mode="on_site"))
    assert answer.status_code == 409
    assert answer.json["error"] == "slots_free"

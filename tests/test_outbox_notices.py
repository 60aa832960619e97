"""The outbox records what to say in the booking's transaction; the job runner renders it
when it sends, as it was when the event happened."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.mail import enqueue
from booking.models import OutboxMessage, Unit
from booking.services.messages.outbox import send_outbox
from tests.support.smtp import SmtpServer
from tests.support.staff import csrf

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
BOOKING = {
    "unit_id": "ORNEX",
    "motif": "otv",
    "start": "2026-11-25T10:00:00+01:00",
    "name": "Camille Martin",
    "email": "camille@example.org",
}


@pytest.fixture
def app_overrides(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX")


def event_of(message: EmailMessage) -> Any:
    """The VEVENT of a message's invitation."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    return event


@pytest.mark.usefixtures("unit")
def test_each_email_says_what_was_true_when_it_happened(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    link = client.post("/api/v1/bookings", json=BOOKING).json["cancel_url"]
    path = link.removeprefix("http://rdv.test")
    page = client.get(path).get_data(as_text=True)
    token = path.split("token=")[1]
    reference = path.split("/")[2].split("?")[0]
    moved = client.post(
        f"/rendez-vous/{reference}/deplacer",
        data={"csrf_token": csrf(page), "token": token, "start": "2026-11-25T11:00:00+01:00"},
    )
    assert moved.status_code == 303
    with app.app_context():  # both sent after the move
        assert send_outbox(MONDAY_7AM) == 2
    confirmation, move = smtp.messages
    assert "mercredi 25 novembre 2026 à 10 h 00" in confirmation["Subject"]
    assert event_of(confirmation).decoded("dtstart") == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert int(event_of(confirmation)["sequence"]) == 0
    assert "11 h 00" in move["Subject"]
    assert int(event_of(move)["sequence"]) == 1
    text = next(p for p in move.walk() if p.get_content_type() == "text/plain").get_content()
    assert path in text  # the link the runner derived is the one that opens the booking


@pytest.mark.usefixtures("unit")
def test_the_outbox_keeps_no_secret_and_no_rendered_message(
    app: Flask, client: FlaskClient
) -> None:
    link = client.post("/api/v1/bookings", json=BOOKING).json["cancel_url"]
    with app.app_context():
        entry = db.session.scalar(select(OutboxMessage))
    assert entry.message == ""
    notice = json.loads(entry.notice)
    assert datetime.fromisoformat(notice["start"]) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert notice["unit"]["name"] == "Gendarmerie - Brigade de Ornex"
    assert link.split("token=")[1] not in entry.notice


@pytest.mark.usefixtures("unit")
def test_a_failed_attempt_is_retried_with_the_same_message_id(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    client.post("/api/v1/bookings", json=BOOKING)
    smtp.stop()  # the relay is down for the first attempt
    with app.app_context():
        assert send_outbox(MONDAY_7AM) == 0
        smtp.start()
        assert send_outbox(datetime(2026, 11, 23, 6, 5, tzinfo=UTC)) == 1
        entry = db.session.scalar(select(OutboxMessage))
    assert entry.attempts == 1
    assert smtp.messages[0]["Message-ID"] == f"<{entry.id}.20261123060000@rendez-vous.invalid>"


@pytest.mark.usefixtures("unit")
def test_a_message_recorded_whole_is_sent_as_recorded(app: Flask, smtp: SmtpServer) -> None:
    """Messages queued by an earlier release, composed whole, still leave."""
    with app.app_context():
        message = EmailMessage()
        message["Subject"], message["To"] = "Ancien message", "a@example.org"
        message["From"] = "ne-pas-repondre@rdv.test"
        message.set_content("Composé avant la mise à jour.")
        enqueue(message, "confirmation")
        db.session.commit()
        assert send_outbox(MONDAY_7AM) == 1
    assert smtp.messages[0]["Subject"] == "Ancien message"

"""Emails through a real SMTP server: confirmation, cancellation, outage, reminders, .eml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.mail import enqueue
from booking.models import Booking, OutboxMessage, Unit
from booking.services.messages.outbox import queue_reminders, send_outbox
from tests.support.smtp import SmtpServer

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
    """Send through the test server."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX")


def send(app: Flask, now: datetime = MONDAY_7AM) -> int:
    """Run the outbox job once."""
    with app.app_context():
        return send_outbox(now)


def calendar(message: EmailMessage) -> Calendar:
    """The parsed .ics attachment."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == Calendar.from_ical(part.get_content())["method"]
    return Calendar.from_ical(part.get_content())


@pytest.mark.usefixtures("unit")
def test_booking_then_cancel_arrive_as_request_then_cancel(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    created = client.post("/api/v1/bookings", json=BOOKING).json
    assert send(app) == 1
    [confirmation] = smtp.messages
    assert confirmation["To"].addresses[0].addr_spec == "camille@example.org"
    assert confirmation.get_content_type() == "multipart/mixed"
    kinds = [part.get_content_type() for part in confirmation.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(kinds)
    invite = calendar(confirmation)
    assert str(invite["method"]) == "REQUEST"
    [event] = invite.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    html = next(p for p in confirmation.walk() if p.get_content_type() == "text/html")
    assert created["cancel_url"].replace("&", "&amp;") in html.get_content()

    token = created["cancel_url"].split("token=")[1]
    client.post(f"/api/v1/bookings/{created['reference']}/cancel", json={"token": token})
    assert send(app) == 1
    cancel = calendar(smtp.messages[1])
    assert str(cancel["method"]) == "CANCEL"
    [cancelled] = cancel.walk("VEVENT")
    assert cancelled["uid"] == event["uid"]
    assert int(cancelled["sequence"]) == int(event["sequence"]) + 1
    assert send(app) == 0  # nothing sent twice


@pytest.mark.usefixtures("unit")
def test_smtp_outage_loses_nothing_and_sends_once_back(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    client.post("/api/v1/bookings", json=BOOKING)
    smtp.stop()
    assert send(app) == 0
    with app.app_context():
        entry = db.session.scalar(select(OutboxMessage))
        assert entry.attempts == 1
        assert entry.sent_at is None
        assert "ConnectionRefused" in entry.last_error
        retry_at = entry.next_attempt_at
    assert retry_at > MONDAY_7AM
    assert send(app, MONDAY_7AM + timedelta(seconds=10)) == 0  # not due yet: no attempt
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).attempts == 1
    smtp.start()
    assert send(app, retry_at) == 1
    assert send(app, retry_at + timedelta(hours=1)) == 0
    assert len(smtp.messages) == 1


@pytest.mark.usefixtures("unit")
def test_backoff_grows_between_attempts(app: Flask, client: FlaskClient, smtp: SmtpServer) -> None:
    client.post("/api/v1/bookings", json=BOOKING)
    smtp.stop()
    now, delays = MONDAY_7AM, []
    for _ in range(4):
        send(app, now)
        with app.app_context():
            due = db.session.scalar(select(OutboxMessage)).next_attempt_at
        delays.append((due - now).total_seconds())
        now = due
    assert delays == [30, 60, 120, 240]


def test_reminder_once_only_when_active_never_after_start(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX")
    kept = client.post("/api/v1/bookings", json=BOOKING).json
    cancelled = client.post(
        "/api/v1/bookings", json={**BOOKING, "start": "2026-11-25T11:00:00+01:00"}
    ).json
    send(app)
    token = cancelled["cancel_url"].split("token=")[1]
    client.post(f"/api/v1/bookings/{cancelled['reference']}/cancel", json={"token": token})
    send(app)
    before = len(smtp.messages)
    with app.app_context():
        assert queue_reminders(datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) == 0  # 25 h before
        assert queue_reminders(datetime(2026, 11, 24, 9, 30, tzinfo=UTC)) == 1  # 23.5 h before
        assert queue_reminders(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) == 0  # once
    assert send(app, datetime(2026, 11, 24, 9, 30, tzinfo=UTC)) == 1
    [reminder] = smtp.messages[before:]
    assert reminder["Subject"].startswith("Rappel : rendez-vous le mercredi 25 novembre 2026")
    text = next(p for p in reminder.walk() if p.get_content_type() == "text/plain").get_content()
    assert kept["cancel_url"] in text  # the manage link again


def test_reminder_queued_but_appointment_started_is_dropped(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX")
    client.post("/api/v1/bookings", json=BOOKING)
    send(app)
    with app.app_context():
        queue_reminders(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    smtp.stop()  # an outage keeps the reminder in the outbox past the appointment
    late = datetime(2026, 11, 25, 9, 5, tzinfo=UTC)
    assert send(app, late) == 0
    with app.app_context():
        reminder = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert reminder.dropped_at == late
        assert "commencé" in reminder.last_error


def test_booked_inside_the_reminder_window_gets_no_reminder(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX")
    client.post("/api/v1/bookings", json={**BOOKING, "start": "2026-11-23T14:00:00+01:00"})
    with app.app_context():
        assert queue_reminders(datetime(2026, 11, 23, 8, 0, tzinfo=UTC)) == 0


class TestWithoutSmtp:
    """The embedded default: emails become .eml files in the instance folder."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        """No SMTP host."""
        return {"SMTP_HOST": ""}

    @pytest.mark.usefixtures("unit")
    def test_emails_are_written_as_eml_files(self, app: Flask, client: FlaskClient) -> None:
        client.post("/api/v1/bookings", json=BOOKING)
        assert send(app) == 1
        [path] = (Path(app.instance_path) / "emails").glob("*.eml")
        assert path.name.endswith("-confirmation.eml")
        assert "rendez-vous.ics" in path.read_text()


def test_a_message_that_cannot_be_sent_does_not_block_the_queue(
    app: Flask, smtp: SmtpServer
) -> None:
    with app.app_context():
        for recipient in ("jösé@exämple.fr", "ok@example.org"):
            message = EmailMessage()
            message["Subject"], message["To"] = "Test", "ok@example.org"
            message["From"] = "ne-pas-repondre@rdv.test"
            message.set_content("x")
            entry = enqueue(message, "test")
            entry.recipient = recipient
        db.session.commit()
        assert send_outbox(datetime.now(UTC) + timedelta(seconds=1)) == 1
        bad = db.session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        assert bad.attempts == 1
    assert len(smtp.messages) == 1


def test_a_reminder_queued_before_a_move_is_not_sent(
    app: Flask,
    client: FlaskClient,
    unit: Unit,
    frozen_now: Callable[[datetime], None],
) -> None:
    created = client.post("/api/v1/bookings", json=BOOKING).json
    reminder_time = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    frozen_now(reminder_time)
    with app.app_context():
        assert queue_reminders(reminder_time) == 1
        booking = db.session.scalar(select(Booking))
        booking.updated_at = reminder_time + timedelta(minutes=5)  # moved meanwhile
        db.session.commit()
        send_outbox(reminder_time + timedelta(minutes=10))
        reminder = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert reminder.sent_at is None
        assert "modifié" in reminder.last_error
    assert created["status"] == "confirmed"

"""Ugly inputs and sequences found in review: each gets a clear answer, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from booking.extensions import db
from booking.jobs import queue_reminders, send_outbox
from booking.mail import enqueue
from booking.models import Booking, OutboxMessage, StaffUser, Unit
from booking.services.staff import create_staff
from tests.smtp import SmtpServer
from tests.test_staff import PASSWORD, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
REQUEST = {"unit_id": "ORNEX", "motif": "otv", "start": "2026-11-25T10:00:00+01:00",
           "name": "Camille Martin", "email": "camille@example.org"}  # fmt: skip


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit; Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX")


def test_a_deactivated_units_booking_can_still_be_seen_and_cancelled(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    created = client.post("/api/v1/bookings", json=REQUEST).json
    with app.app_context():
        db.session.execute(update(Unit).values(active=False))
        db.session.commit()
    link = created["cancel_url"].removeprefix("http://rdv.test")
    page = client.get(link)
    assert page.status_code == 200
    assert "Annuler ce rendez-vous" in page.get_data(as_text=True)
    token = created["cancel_url"].split("token=")[1]
    cancelled = client.post(f"/api/v1/bookings/{created['reference']}/cancel",
                            json={"token": token})  # fmt: skip
    assert cancelled.status_code == 200


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("body", [[1, 2], "x", 3, None])
def test_a_json_body_that_is_not_an_object_is_a_422(client: FlaskClient, body: Any) -> None:
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 422


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-12:00"])
def test_absurd_dates_are_refused_clearly(client: FlaskClient, start: str) -> None:
    response = client.post("/api/v1/bookings", json={**REQUEST, "start": start})
    assert response.status_code == 422
    assert "start" in response.json["fields"]
    page = client.get(f"/unites/ORNEX/rendez-vous?motif=otv&debut={start.replace('+', '%2B')}")
    assert page.status_code == 404


@pytest.mark.usefixtures("unit")
def test_a_forged_slot_choice_in_the_form_is_a_422(client: FlaskClient) -> None:
    url = "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-25T10:00:00%2B01:00"
    response = client.post(url, data={"debut": "2026-11-25T10:00:00+01:00", "start": "garbage",
                                      "name": "Camille", "email": "c@example.org"})  # fmt: skip
    assert response.status_code == 422


@pytest.mark.usefixtures("unit")
def test_an_address_that_plain_email_cannot_carry_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/bookings", json={**REQUEST, "email": "jösé@exämple.fr"})
    assert response.status_code == 422
    assert "email" in response.json["fields"]


class TestOutbox:
    """One bad message does not hold the others; a reminder of a moved visit is dropped."""

    @pytest.fixture
    def smtp(self) -> Any:
        """A running SMTP server."""
        server = SmtpServer()
        server.start()
        yield server
        server.stop()

    @pytest.fixture
    def app_overrides(self, smtp: SmtpServer) -> dict[str, Any]:
        """Send through it."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}

    def test_a_message_that_cannot_be_sent_does_not_block_the_queue(
        self, app: Flask, smtp: SmtpServer
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
        self,
        app: Flask,
        client: FlaskClient,
        unit: Unit,
        frozen_now: Callable[[datetime], None],
    ) -> None:
        created = client.post("/api/v1/bookings", json=REQUEST).json
        reminder_time = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        frozen_now(reminder_time)
        with app.app_context():
            assert queue_reminders(reminder_time) == 1
            booking = db.session.scalar(select(Booking))
            booking.updated_at = reminder_time + timedelta(minutes=5)  # moved meanwhile
            db.session.commit()
            send_outbox(reminder_time + timedelta(minutes=10))
            reminder = db.session.scalar(
                select(OutboxMessage).where(OutboxMessage.kind == "reminder")
            )
            assert reminder.sent_at is None
            assert "modifié" in reminder.last_error
        assert created["status"] == "confirmed"


def test_a_deactivated_account_loses_its_open_session(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["ORNEX"])
    sign_in(client, "agent@gendarmerie.interieur.gouv.fr")
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    assert client.get("/staff/").status_code == 302


class TestHoldsAndStaffChanges:
    """With email verification, a closure also cancels the holds inside it."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        """Holds on."""
        return {"BOOKING_EMAIL_VERIFICATION": True}

    def test_closure_cancels_holds_too(self, app: Flask, client: FlaskClient, unit: Unit) -> None:
        from booking.services import unit_settings

        client.post("/api/v1/bookings", json=REQUEST)
        with app.app_context():
            actor = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
            target = db.session.get(Unit, unit.id)
            outcome = unit_settings.add_closure(
                actor, target, datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
                datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "Travaux", confirmed=True,
            )  # fmt: skip
            assert len(outcome.affected) == 1
            assert db.session.scalar(select(Booking.status)) == "cancelled_by_unit"

"""BOOKING_EMAIL_VERIFICATION: a booking holds its slot until confirmed from the email."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.errors import NotChangeable
from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from booking.services.bookings.change import confirm_booking
from booking.services.messages.outbox import release_expired_holds
from booking.services.staff.accounts import create_staff
from booking.services.units import settings as unit_settings
from tests.support.mail import link_in, rendered
from tests.support.staff import PASSWORD, csrf

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SLOT = "2026-11-24T10:00:00+01:00"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The verification mode, with 30-minute holds."""
    return {"BOOKING_EMAIL_VERIFICATION": True, "BOOKING_HOLD_MINUTES": 30}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk; Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def request(mail: str = "camille@example.org") -> dict[str, str]:
    """A booking request for the slot."""
    return {
        "unit_id": "ORNEX",
        "motif": "otv",
        "start": SLOT,
        "name": "Camille Martin",
        "email": mail,
    }


def outbox(app: Flask) -> list[OutboxMessage]:
    """Queued emails."""
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def confirm(client: FlaskClient, link: str) -> str:
    """Press the confirm button of the page the email's link opens; the page shown after."""
    page = client.get(link).get_data(as_text=True)
    form = page.split('action="/rendez-vous/')[1].split("</form>")[0]
    assert form.split('"')[0].endswith("/confirmer"), "no confirm button"
    fields = dict(re.findall(r'name="([a-z_]+)" type="hidden" value="([^"]*)"', form))
    reference = link.split("/rendez-vous/")[1].split("?")[0]
    response = client.post(f"/rendez-vous/{reference}/confirmer", data=fields)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def email_link(app: Flask, entry: OutboxMessage) -> str:
    """The link of a hold's email (the manage link with the secret that confirms)."""
    return link_in(rendered(app, entry))


@pytest.mark.usefixtures("unit")
def test_a_hold_keeps_the_slot_until_confirmed_then_the_invitation_leaves(
    app: Flask, client: FlaskClient
) -> None:
    created = client.post("/api/v1/bookings", json=request())
    assert created.status_code == 201
    assert created.json["status"] == "pending"
    [verification] = outbox(app)
    assert verification.kind == "verification"
    message = rendered(app, verification)
    assert message["Subject"].startswith("À confirmer : rendez-vous le mardi 24 novembre 2026")
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert client.post("/api/v1/bookings", json=request("b@example.org")).status_code == 409
    answered = created.json["cancel_url"].removeprefix("http://rdv.test")
    # The answer's link sees the hold and can free it; only the email's can confirm it.
    page = client.get(answered).get_data(as_text=True)
    assert "Confirmer mon rendez-vous" not in page
    assert "ouvrez le lien du courriel" in page
    assert "Je n'en veux plus" in page
    page = confirm(client, email_link(app, verification))
    assert "Votre rendez-vous est confirmé" in page
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
    kinds = [entry.kind for entry in outbox(app)]
    assert kinds == ["verification", "confirmation"]


@pytest.mark.usefixtures("unit")
def test_cancelling_a_hold_promises_no_email(app: Flask, client: FlaskClient) -> None:
    """A hold never had an invitation: cancelling it says nothing of an email, sends none."""
    created = client.post("/api/v1/bookings", json=request())
    link = created.json["cancel_url"].removeprefix("http://rdv.test")
    page = client.get(link).get_data(as_text=True)
    token = link.split("token=")[1]
    reference = created.json["reference"]
    asked = client.post(
        f"/rendez-vous/{reference}/annuler", data={"csrf_token": csrf(page), "token": token}
    ).get_data(as_text=True)
    assert "Annuler ce rendez-vous ?" in asked
    assert "courriel" not in asked.split("<h1>")[1].split("</form>")[0]
    done = client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(asked), "token": token, "confirme": "oui"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Votre demande de rendez-vous est annulée" in done
    assert "Un courriel de confirmation vous est envoyé" not in done
    assert [entry.kind for entry in outbox(app)] == ["verification"]


def test_an_unconfirmed_hold_expires_and_frees_the_slot(
    app: Flask, client: FlaskClient, unit: Unit, frozen_now: Callable[[datetime], None]
) -> None:
    first = client.post("/api/v1/bookings", json=request()).json
    frozen_now(MONDAY_7AM + timedelta(minutes=31))
    link = first["cancel_url"].removeprefix("http://rdv.test")
    page = client.get(link).get_data(as_text=True)
    assert "non confirmé à temps" in page
    assert "Confirmer mon rendez-vous" not in page
    secret = email_link(app, outbox(app)[0]).split("confirmation=")[1]
    token = first["cancel_url"].split("token=")[1]
    with app.app_context(), pytest.raises(NotChangeable, match="délai de confirmation"):
        confirm_booking(first["reference"], token, secret)
    slots = client.get("/api/v1/units/ORNEX/slots?motif=otv&from=2026-11-24&to=2026-11-24").json
    assert SLOT in [slot["start"] for slot in slots["slots"]]  # offered again
    second = client.post("/api/v1/bookings", json=request("b@example.org"))
    assert second.status_code == 201
    with app.app_context():
        statuses = dict(db.session.execute(select(Booking.email, Booking.status)).all())
    assert statuses == {"camille@example.org": "expired", "b@example.org": "pending"}


def test_the_job_runner_releases_expired_holds(app: Flask, client: FlaskClient, unit: Unit) -> None:
    client.post("/api/v1/bookings", json=request())
    with app.app_context():
        assert release_expired_holds(MONDAY_7AM + timedelta(minutes=29)) == 0
        assert release_expired_holds(MONDAY_7AM + timedelta(minutes=31)) == 1
        assert db.session.scalar(select(Booking.status)) == "expired"


def test_a_closure_cancels_the_holds_inside_it_too(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    client.post("/api/v1/bookings", json={**request(), "start": "2026-11-25T10:00:00+01:00"})
    with app.app_context():
        actor = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        target = db.session.get(Unit, unit.id)
        outcome = unit_settings.add_closure(
            actor,
            target,
            datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
            "Travaux",
            confirmed=True,
        )
        assert len(outcome.affected) == 1
        assert db.session.scalar(select(Booking.status)) == "cancelled_by_unit"

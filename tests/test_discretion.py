"""Discretion (SPEC §17): a discreet booking's emails, invitation and pages say neither the
reason nor the gendarmerie; it may be made with no email address; a sensitive visit ticks
it in advance; the quick exit forgets the visit. Through a real SMTP server."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from booking.services.messages.outbox import send_outbox
from tests.support.smtp import SmtpServer
from tests.support.staff import csrf

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
START = "2026-11-25T10:00:00+01:00"
# What a discreet booking's emails and invitation must never say.
TELLING = re.compile(r"gendarmerie|plainte|violence|auteur|radicalisation|brigade", re.I)


@pytest.fixture
def app_overrides(smtp: SmtpServer) -> dict[str, Any]:
    """Send through the test server, from the service's own address."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "MAIL_FROM": "Rendez-vous en gendarmerie <rdv@interieur.test>",
        "MAIL_FROM_DISCREET": "Rendez-vous <rdv@interieur.test>",
    }


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A brigade; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", name="Gendarmerie - Brigade de Ornex")


def booked(client: FlaskClient, motif: str, **extra: Any) -> dict[str, Any]:
    """Book through the API."""
    body = {"unit_id": "ORNEX", "motif": motif, "start": START, "name": "Camille Martin"}
    answer = client.post("/api/v1/bookings", json={**body, **extra})
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def sent(app: Flask, smtp: SmtpServer) -> list[EmailMessage]:
    """Run the outbox once; what the server received."""
    with app.app_context():
        send_outbox(MONDAY_7AM)
    return list(smtp.messages)


def every_text(message: EmailMessage) -> str:
    """Subject, sender and every part of a message, decoded."""
    parts = [str(message["Subject"]), str(message["From"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


def invitation(message: EmailMessage) -> Calendar:
    """The parsed .ics attachment."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("motif", "extra"),
    [
        ("faits_auteur_connu", {"discreet": True}),  # asked for
        ("radicalisation", {}),  # a discreet reason: always
    ],
)
def test_a_discreet_booking_s_emails_and_invitation_tell_nothing(
    app: Flask, client: FlaskClient, smtp: SmtpServer, motif: str, extra: dict[str, Any]
) -> None:
    made = booked(client, motif, email="camille@example.org", **extra)
    assert made["discreet"] is True
    [confirmation] = sent(app, smtp)
    text = every_text(confirmation)
    assert not TELLING.search(text), TELLING.search(text)
    assert confirmation["From"].addresses[0].display_name == "Rendez-vous"
    assert str(confirmation["Subject"]).startswith("Rendez-vous confirmé le mercredi 25 novembre")
    assert "124 Rue de Béjoud, 01210 Ornex" in text  # where to go, and nothing more
    assert made["cancel_url"].replace("&", "&amp;") in text  # the link stays in the email
    ics = invitation(confirmation).to_ical().decode()
    assert not TELLING.search(ics), TELLING.search(ics)
    assert "token=" not in ics
    [event] = invitation(confirmation).walk("VEVENT")
    assert str(event["summary"]) == "Rendez-vous"

    token = made["cancel_url"].split("token=")[1]
    client.post(f"/api/v1/bookings/{made['reference']}/cancel", json={"token": token})
    cancellation = sent(app, smtp)[-1]
    assert not TELLING.search(
        every_text(cancellation) + invitation(cancellation).to_ical().decode()
    )


@pytest.mark.usefixtures("unit")
def test_an_ordinary_booking_names_the_unit_and_the_reason(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    made = booked(client, "otv", email="camille@example.org")
    assert made["discreet"] is False
    [confirmation] = sent(app, smtp)
    assert "Gendarmerie - Brigade de Ornex" in str(confirmation["Subject"])
    assert confirmation["From"].addresses[0].display_name == "Rendez-vous en gendarmerie"
    assert "token=" not in invitation(confirmation).to_ical().decode()  # no secret there either


@pytest.mark.usefixtures("unit")
def test_a_discreet_booking_without_email_gets_its_reference_link_and_ics(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    made = booked(client, "faits_auteur_connu", discreet=True)
    assert made["cancel_url"]
    reference, token = made["reference"], made["cancel_url"].split("token=")[1]
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
        row = db.session.scalar(select(Booking).where(Booking.reference == reference))
        assert row is not None
        assert row.email == ""
        assert row.discreet
    page = client.get(f"/rendez-vous/{reference}/confirme?token={token}")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("no-store")
    assert reference in html
    assert "Gardez ces informations en lieu sûr" in html
    assert f"/rendez-vous/{reference}?token={token}" in html
    download = client.get(f"/rendez-vous/{reference}/rendez-vous.ics?token={token}")
    assert download.status_code == 200
    assert download.mimetype == "text/calendar"
    assert download.headers["Cache-Control"].startswith("no-store")
    ics = download.get_data(as_text=True)
    assert "SUMMARY:Rendez-vous" in ics
    assert not TELLING.search(ics)
    assert client.get(f"/rendez-vous/{reference}/rendez-vous.ics?token=wrong").status_code == 404
    assert sent(app, smtp) == []


@pytest.mark.usefixtures("unit")
def test_only_a_discreet_booking_may_go_without_an_email(client: FlaskClient) -> None:
    body = {"unit_id": "ORNEX", "motif": "otv", "start": START, "name": "Camille Martin"}
    answer = client.post("/api/v1/bookings", json=body)
    assert answer.status_code == 422
    assert "email" in answer.json["fields"]


def _walk_to_the_sensitive_branch(client: FlaskClient) -> str:
    """Answer the orienteur as a victim would; the page of the appointment outcome."""
    start = client.get("/orientation/").get_data(as_text=True)
    assert "navigation privée" in start
    facts = client.get("/orientation/faits").get_data(as_text=True)
    assert re.search(r'data-replace href="/orientation/accompagnement"', facts)
    question = client.get("/orientation/accompagnement").get_data(as_text=True)
    assert "<title>Rendez-vous</title>" in question  # the browser's history keeps titles
    assert "data-discreet" in question
    assert "/js/discreet-history." in question
    outcome = client.get("/orientation/issue/rdv_accompagnement?depuis=accompagnement")
    return outcome.get_data(as_text=True)


@pytest.mark.usefixtures("unit")
def test_a_sensitive_visit_ticks_the_discreet_booking_and_the_quick_exit_forgets_it(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    _walk_to_the_sensitive_branch(client)
    debut = START.replace("+", "%2B")
    page = client.get(f"/unites/ORNEX/rendez-vous?motif=faits_auteur_connu&debut={debut}")
    html = page.get_data(as_text=True)
    assert re.search(r'id="discret" name="discret" value="y"[^>]* checked', html)
    assert "auteur est connu" not in html  # the reason's label, neutral in such a visit
    form = {
        "csrf_token": csrf(html),
        "cle": re.search(r'name="cle" type="hidden" value="([^"]+)"', html).group(1),
        "debut": START,
        "name": "Camille Martin",
        "email": "",
        "discret": "y",
    }
    done = client.post("/unites/ORNEX/rendez-vous?motif=faits_auteur_connu", data=form)
    assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(Booking))
        assert row is not None
        assert row.discreet
        assert row.email == ""

    left = client.get("/quitter")
    assert left.status_code == 303
    assert left.headers["Location"] == app.config["QUICK_EXIT_URL"]
    assert "session=;" in left.headers.get("Set-Cookie", "")  # the visit is forgotten
    after = client.get(f"/unites/ORNEX/rendez-vous?motif=otv&debut={debut}").get_data(as_text=True)
    assert "data-quick-exit" not in after


@pytest.mark.usefixtures("unit")
def test_a_moved_booking_s_email_gives_both_times_and_a_cancelled_one_leads_to_the_slots(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    made = booked(client, "otv", email="camille@example.org")
    reference, token = made["reference"], made["cancel_url"].split("token=")[1]
    page = client.get(f"/rendez-vous/{reference}?token={token}").get_data(as_text=True)
    moved = client.post(
        f"/rendez-vous/{reference}/deplacer",
        data={"csrf_token": csrf(page), "token": token, "start": "2026-11-25T11:00:00+01:00"},
    )
    assert moved.status_code == 303
    texts = [every_text(m) for m in sent(app, smtp)]
    assert "Ancien horaire : mercredi 25 novembre 2026 à 10 h 00" in texts[-1]
    assert "Quand : mercredi 25 novembre 2026 à 11 h 00" in texts[-1]
    client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token})
    cancellation = every_text(sent(app, smtp)[-1])
    assert "http://rdv.test/unites/ORNEX/creneaux?motif=otv" in cancellation


def _cookie_payload(client: FlaskClient) -> str:
    """What anyone who reads the session cookie sees (it is signed, not encrypted)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    payload = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if cookie.value.startswith(".") else raw).decode()


@pytest.mark.usefixtures("unit")
def test_the_session_cookie_names_no_reason_unit_or_time(client: FlaskClient) -> None:
    debut = START.replace("+", "%2B")
    page = client.get(f"/unites/ORNEX/rendez-vous?motif=radicalisation&debut={debut}")
    assert page.status_code == 200
    seen = _cookie_payload(client)
    assert "cles" in seen  # the form's one-time key is there…
    for telling in ("radicalisation", "ORNEX", "2026-11-25", "10:00"):
        assert telling not in seen  # …under a name that says nothing

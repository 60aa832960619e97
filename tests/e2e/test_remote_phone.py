"""Appointments at a distance and booked for someone (SPEC §12), in Chromium at 390×844:
a citizen books a video appointment and joins it from the manage page; an agent books a
phone appointment for a caller without email and prints the card; an invitation link used
twice books once. Each page is audited by axe; any failed request or console error fails
the test (conftest)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from booking.extensions import db
from booking.models import Booking, Unit
from booking.services.staff.accounts import create_staff
from tests.e2e.conftest import audit, screenshot
from tests.support.server import Server
from tests.support.staff import browser_sign_in

PASSWORD = "mot de passe solide"


class _Room(BaseHTTPRequestHandler):
    """A stand-in for the video service: any room answers a small page."""

    def do_GET(self) -> None:
        body = b"<!doctype html><html lang='fr'><title>Salle</title><h1>Salle de visio</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture
def provider() -> Iterator[str]:
    """The video service, on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Room)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live(
    app: Flask, ornex: Unit, database_uri: str, tmp_path: Path, provider: str
) -> Iterator[Server]:
    """gunicorn with the video service above; the unit gets one remote line."""
    with app.app_context():
        db.session.execute(update(Unit).where(Unit.id == ornex.id).values(remote_lines=1))
        db.session.commit()
    server = Server(
        database_uri, tmp_path / "instance", workers=2, extra_env={"VIDEO_ROOM_URL": provider}
    )
    yield server
    server.stop()


def the_booking(app: Flask) -> Booking:
    with app.app_context():
        found = db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()
        assert found is not None
        db.session.expunge(found)
        return found


def test_a_citizen_books_a_video_appointment_and_joins_it(
    new_page: Callable[..., Page], app: Flask, provider: str
) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=signalement")
    page.get_by_role("link", name="En visio").click()
    expect(page.get_by_role("link", name="En visio")).to_have_attribute("aria-current", "page")
    assert audit(page) == []
    page.locator(".slot-list button").first.click()
    expect(page.get_by_role("heading", name="Pour la visio, il vous faudra")).to_be_visible()
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse électronique").fill("camille@example.org")
    assert audit(page) == []
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Rendez-vous en visio")).to_be_visible()
    booking = the_booking(app)
    assert (booking.mode, booking.channel) == ("video", "online")
    room = f"{provider}/{booking.video_room}"
    expect(page.locator(".visio-link")).to_have_text(room)
    expect(page.get_by_role("link", name="Rejoindre la visio")).to_have_count(0)  # not yet
    assert audit(page) == []

    # The reach test, in plain words.
    page.get_by_role("button", name="Tester ma connexion à la visio").click()
    expect(page.get_by_role("status").filter(has_text="service de visio")).to_contain_text(
        "répond depuis cet appareil"
    )

    # Ten minutes before the start, the manage page offers to join.
    soon = datetime.now(UTC) + timedelta(minutes=10)
    with app.app_context():
        db.session.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(starts_at=soon, ends_at=soon + timedelta(minutes=30))
        )
        db.session.commit()
    manage = page.get_by_role("link", name="Annulez ou déplacez le rendez-vous")
    manage.click()
    join = page.get_by_role("link", name="Rejoindre la visio")
    expect(join).to_have_attribute("href", room)
    assert audit(page) == []
    screenshot(page, "12-visio-rejoindre")
    join.click()
    expect(page.get_by_role("heading", name="Salle de visio")).to_be_visible()
    assert page.url == room


def test_an_agent_books_a_phone_appointment_for_a_caller_and_prints_the_card(
    new_page: Callable[..., Page], app: Flask
) -> None:
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["01281-01"])
    page = new_page()
    page.add_init_script("window.print = () => { window.__printed = true; };")
    browser_sign_in(page, app, "agent@gendarmerie.interieur.gouv.fr", PASSWORD)
    expect(page.get_by_role("heading", name="Mes unités")).to_be_visible()
    page.goto("/staff/units/01281-01/agenda")
    page.get_by_role("link", name="Rendez-vous pour un appelant").tap()
    page.get_by_label("Motif").select_option("signalement")
    page.get_by_role("button", name="Voir les créneaux").tap()
    page.locator("label[for=mode-phone]").tap()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page.get_by_label("Jour").fill(tomorrow)
    page.get_by_role("button", name="Voir les créneaux").tap()
    expect(page.get_by_role("heading", name=re.compile("par téléphone"))).to_be_visible()
    assert audit(page) == []
    page.locator("#start label").nth(40).tap()  # 20:00: the slots start at midnight
    page.get_by_label("Nom et prénom de l'appelant").fill("Dominique Appelant")
    # A wrong number first: refused in French, what was typed kept.
    page.get_by_role("textbox", name="Téléphone").fill("06 12 34")
    page.get_by_role("button", name="Réserver ce rendez-vous").tap()
    expect(page.get_by_role("alert")).to_contain_text("Numéro de téléphone français invalide")
    expect(page.get_by_label("Nom et prénom de l'appelant")).to_have_value("Dominique Appelant")
    assert audit(page) == []
    page.locator("#start label").nth(40).tap()
    page.get_by_role("textbox", name="Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Réserver ce rendez-vous").tap()
    expect(page.get_by_role("heading", name="Rendez-vous réservé")).to_be_visible()
    booking = the_booking(app)
    assert (booking.mode, booking.channel, booking.email) == ("phone", "staff", "")
    expect(page.locator(".card-reference")).to_have_text(
        f"{booking.reference[:4]} {booking.reference[4:]}"
    )
    expect(page.get_by_text("l'unité vous appellera au 06 12 34 56 78")).to_be_visible()
    assert audit(page) == []
    page.get_by_role("button", name="Imprimer la fiche").tap()
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Imprimer la fiche")).to_be_hidden()
    expect(page.locator(".booking-card")).to_be_visible()
    screenshot(page, "13-fiche-appelant")


def test_an_invitation_link_used_twice_books_once(
    new_page: Callable[..., Page], app: Flask
) -> None:
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["01281-01"])
    agent = new_page()
    browser_sign_in(agent, app, "agent@gendarmerie.interieur.gouv.fr", PASSWORD)
    expect(agent.get_by_role("heading", name="Mes unités")).to_be_visible()
    agent.goto("/staff/units/01281-01/invitations")
    agent.get_by_label("Motif et façon d'être reçu").select_option("signalement|video")
    agent.get_by_role("button", name="Créer un lien").tap()
    link = agent.get_by_label("Lien d'invitation").input_value()
    assert audit(agent) == []

    citizen = new_page()
    citizen.goto(link)
    expect(citizen.get_by_text("Rendez-vous en visio")).to_be_visible()
    assert audit(citizen) == []
    citizen.locator(".slot-list button").first.tap()
    citizen.get_by_label("Nom et prénom").fill("Camille Invitée")
    citizen.get_by_label("Adresse électronique").fill("camille@example.org")
    citizen.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(citizen.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()

    again = new_page()
    again.goto(link)
    expect(again.get_by_text("Ce lien d'invitation a déjà servi")).to_be_visible()
    assert audit(again) == []
    with app.app_context():
        made = db.session.scalars(select(Booking)).all()
    assert [(b.channel, b.mode) for b in made] == [("invitation", "video")]

"""A phone books with the proof-of-work challenge on: the widget fetches a challenge, solves
it in its worker under the strict CSP, and the booking goes through; the waiting list too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from tests.e2e.conftest import audit, screenshot
from tests.e2e.test_citizen_journey import fill_details
from tests.support.server import Server


@pytest.fixture
def live(app: Flask, ornex: Unit, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """The app served by gunicorn with BOOKING_CHALLENGE=on."""
    server = Server(
        database_uri, tmp_path / "instance", workers=2, extra_env={"BOOKING_CHALLENGE": "on"}
    )
    yield server
    server.stop()


def test_a_phone_books_with_the_challenge_on(new_page: Callable[..., Page], app: Flask) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=otv")
    page.locator("button[name=debut]").first.tap()
    fill_details(page)
    widget = page.locator("altcha-widget")
    expect(widget).to_be_visible()
    # solved on its own once the page is loaded: the form then carries the solution
    expect(page.locator("input[name=altcha]")).to_have_count(1, timeout=20_000)
    expect(page.locator("input[name=altcha]")).not_to_have_value("", timeout=20_000)
    assert audit(page) == []
    screenshot(page, "13-defi")
    page.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id))) == 1


def test_the_waiting_list_is_joined_with_the_challenge_on(
    new_page: Callable[..., Page], app: Flask, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="01160-01", name="Gendarmerie - Brigade de Gex", hours={})  # no slot
    page = new_page()
    page.goto("/unites/01160-01/creneaux?motif=otv")
    expect(page.get_by_role("heading", name="Aucun créneau libre cette semaine")).to_be_visible()
    page.get_by_role("link", name="Être prévenu(e) quand un créneau se libère").last.tap()
    expect(
        page.get_by_role("heading", name="Être prévenu(e) quand un créneau se libère")
    ).to_be_visible()
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse électronique").fill("camille@example.org")
    expect(page.locator("input[name=altcha]")).not_to_have_value("", timeout=20_000)
    assert audit(page) == []
    screenshot(page, "14-liste-attente")
    page.get_by_role("button", name="M'inscrire sur la liste d'attente").tap()
    expect(page.get_by_role("heading", name="Vérifiez votre messagerie")).to_be_visible()
    with app.app_context():
        kinds = list(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["waitlist_confirm"]

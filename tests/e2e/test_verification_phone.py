"""The default journey on a phone: an anonymous booking is confirmed from its email (SPEC §5,
so that only the address's owner learns whether it has room). What it costs is measured
here and printed, not asserted: the steps, and the time the pages take."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from tests.e2e.conftest import audit, screenshot
from tests.e2e.test_citizen_journey import fill_details
from tests.support.keys import SECRET_KEY
from tests.support.mail import link_in, rendered
from tests.support.server import Server


@pytest.fixture
def live(app: Flask, ornex: Unit, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """The app served by gunicorn with its default: bookings confirmed from the email."""
    server = Server(
        database_uri,
        tmp_path / "instance",
        workers=2,
        extra_env={"BOOKING_EMAIL_VERIFICATION": "true"},
    )
    yield server
    server.stop()


def test_a_phone_books_then_confirms_from_the_email(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=otv")
    page.locator("button[name=debut]").first.tap()
    fill_details(page)
    started = time.perf_counter()
    page.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(
        page.get_by_role("heading", name="Dernière étape : confirmez depuis votre messagerie")
    ).to_be_visible()
    booked = time.perf_counter() - started
    assert audit(page) == []
    screenshot(page, "15-a-confirmer")
    with app.app_context():
        [entry] = db.session.scalars(select(OutboxMessage))
        db.session.expunge_all()
    assert entry.kind == "verification"
    app.config["SECRET_KEY"] = SECRET_KEY  # the server's, from which the links' keys derive
    link = link_in(rendered(app, entry))  # its path, as the server under test made it
    # The steps the email adds: open it, tap its link, tap the button.
    started = time.perf_counter()
    page.goto(link)
    page.get_by_role("button", name="Confirmer mon rendez-vous").tap()
    expect(page.get_by_text("Votre rendez-vous est confirmé.")).to_be_visible()
    confirmed = time.perf_counter() - started
    assert audit(page) == []
    screenshot(page, "16-confirme-depuis-le-courriel")
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
    print(
        f"\nbooking sent → 'check your email' page: {booked * 1000:.0f} ms;"
        f" email link opened → confirmed: {confirmed * 1000:.0f} ms"
        " (2 taps more than a booking confirmed at once, and the switch to the mail app)"
    )

"""An agent's day at the desk, in Chromium: sign in, agenda, a visit honoured, one cancelled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, Unit
from booking.services.staff.accounts import create_staff
from tests.e2e.conftest import audit, screenshot
from tests.support.staff import browser_sign_in


def test_agent_runs_a_day_at_the_desk(
    new_page: Callable[..., Page],
    app: Flask,
    ornex: Unit,
    create_booking: Callable[..., Booking],
) -> None:
    paris = ZoneInfo("Europe/Paris")
    # "Venu" is marked from half an hour before a visit: Albert's began ten minutes ago.
    start = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    first = create_booking(ornex, start, name="Albert Matinal", phone="+33612345678")
    second = create_booking(ornex, start + timedelta(hours=1), name="Zoé Tardive")
    day = start.astimezone(paris).date().isoformat()
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", "mot de passe solide", ["01281-01"])

    page = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    browser_sign_in(page, app, "agent@gendarmerie.interieur.gouv.fr", "mot de passe solide")
    expect(page.get_by_role("heading", name="Mes unités")).to_be_visible()
    assert audit(page) == []

    page.goto(f"/staff/units/01281-01/agenda?date={day}")
    expect(page.get_by_text("2 rendez-vous · attendu : 2")).to_be_visible()
    assert audit(page) == []
    screenshot(page, "8-agenda-agent")

    page.get_by_role("button", name="Albert Matinal est venu").click()
    expect(page.get_by_role("status")).to_contain_text("Albert Matinal : venu")
    page.get_by_label("Raison de l'annulation").fill("Enquêteur appelé en intervention")
    page.get_by_role("button", name="Annuler le rendez-vous de Zoé Tardive").click()
    expect(page.get_by_role("status")).to_contain_text("la personne est prévenue")
    expect(page.get_by_text("venu : 1")).to_be_visible()

    # The same agenda on a phone: each visit a block, nothing scrolls sideways, and any day
    # one tap away (a date field, next Monday).
    phone = new_page()
    browser_sign_in(phone, app, "agent@gendarmerie.interieur.gouv.fr", "mot de passe solide")
    expect(phone.get_by_role("heading", name="Mes unités")).to_be_visible()
    phone.goto(f"/staff/units/01281-01/agenda?date={day}")
    screenshot(phone, "8b-agenda-telephone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    scroll = phone.evaluate(
        "(() => { const t = document.querySelector('.agenda table');"
        " return [t.scrollWidth, t.clientWidth]; })()"
    )
    assert scroll[0] <= scroll[1], scroll  # no scrolling inside the table
    expect(phone.get_by_label("Afficher le jour")).to_have_value(day)
    expect(phone.get_by_role("link", name="Lundi prochain")).to_be_visible()
    assert audit(phone) == []

    with app.app_context():
        statuses = {
            name: status
            for name, status in db.session.execute(select(Booking.name, Booking.status))
        }
    assert statuses == {"Albert Matinal": "honoured", "Zoé Tardive": "cancelled_by_unit"}
    assert first.reference != second.reference

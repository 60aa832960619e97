"""A visitor who reads no French, on a 390×844 phone (SPEC §13): the DSFR language selector
from the header's menu, then a whole booking in English with the keyboard only, every page
audited by axe; the confirmation email speaks English. Fails on any failed request or
console error (conftest)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, OutboxMessage
from tests.e2e.conftest import audit, screenshot
from tests.e2e.test_citizen_journey import tab_to
from tests.support.mail import rendered, text_of


def test_a_whole_booking_in_english_on_a_phone_by_keyboard_only(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page()  # a phone whose browser asks for French
    violations: dict[str, list[str]] = {}
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # The selector, in the header's menu on a phone.
    tab_to(page, "#bouton-menu")
    page.keyboard.press("Enter")
    tab_to(page, ".fr-header__menu .fr-translate__btn")
    page.keyboard.press("Enter")
    tab_to(page, '.fr-header__menu a[hreflang="en"]')
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name=re.compile("Emergency"))).to_be_visible()
    violations["home"] = audit(page)
    screenshot(page, "14-english-home")

    tab_to(page, "#q")
    page.keyboard.type("01210")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="1 unit found")).to_be_visible()
    violations["results"] = audit(page)
    tab_to(page, "ul.results a")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("choose the reason"))).to_be_visible()
    violations["unit"] = audit(page)
    tab_to(page, 'a[href*="motif=signalement"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Choose a time slot"))).to_be_visible()
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    violations["slots"] = audit(page)
    screenshot(page, "15-english-slots")
    tab_to(page, "button[name=debut]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Your details"))).to_be_visible()
    tab_to(page, "button[type=submit]")  # nothing typed: the errors, in English
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Correct the following")
    violations["form with errors"] = audit(page)
    screenshot(page, "16-english-errors")
    tab_to(page, "#name")
    page.keyboard.type("Jane Smith")
    tab_to(page, "#email")
    page.keyboard.type("jane@example.org")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your appointment is confirmed")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    violations["confirmation"] = audit(page)
    screenshot(page, "17-english-confirmed")
    assert {name: found for name, found in violations.items() if found} == {}

    with app.app_context():
        booking = db.session.scalar(select(Booking))
        assert (booking.name, booking.language) == ("Jane Smith", "en")
        entry = db.session.scalar(select(OutboxMessage))
    email = rendered(app, entry)
    assert str(email["Subject"]).startswith("Appointment confirmed on ")
    assert "Your appointment" in text_of(email) or "your appointment" in text_of(email)

"""The citizen's journey in Chromium: on a phone, by keyboard, a lost race, a cancellation."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, OutboxMessage
from tests.e2e.conftest import audit, screenshot
from tests.support.mail import rendered


def fill_details(
    page: Page, name: str = "Camille Martin", mail: str = "camille@example.org"
) -> None:
    """Type the citizen's details."""
    page.get_by_label("Nom et prénom").fill(name)
    page.get_by_label("Adresse électronique").fill(mail)
    page.get_by_label("Téléphone (facultatif)").fill("06 12 34 56 78")


def test_full_journey_on_a_phone_with_an_accessibility_audit_of_each_page(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page()
    violations: dict[str, list[str]] = {}

    page.goto("/")
    expect(page.get_by_role("heading", name="Urgence ou faits en cours ?")).to_be_visible()
    violations["accueil"] = audit(page)
    screenshot(page, "1-accueil")

    page.get_by_label("Votre commune, votre code postal ou le nom de l'unité").fill("ornex")
    page.get_by_text("Motif de votre visite (facultatif)").click()  # unfolds the reasons
    page.locator("label[for=motif-otv]").click()  # the DSFR radio: its label takes the tap
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 unité trouvée")).to_be_visible()
    expect(page.get_by_text("Premier créneau libre (30 min)")).to_be_visible()
    violations["résultats"] = audit(page)
    screenshot(page, "2-resultats")

    page.get_by_role("link", name="Gendarmerie - Brigade de proximité d'Ornex").click()
    # The reason chosen on the home page is kept: its first slots come first, in the first
    # screen; the unit's address and hours are folded after them.
    expect(page.get_by_role("heading", name=re.compile("Opération Tranquillité"))).to_be_visible()
    expect(page.locator("button[name=debut]").first).to_be_in_viewport()
    expect(page.get_by_text("24 h sur 24").first).to_be_hidden()
    page.get_by_text("Adresse, téléphone et horaires d'accueil").click()
    expect(page.get_by_text("24 h sur 24").first).to_be_visible()
    violations["unité"] = audit(page)
    screenshot(page, "3-unite")
    page.get_by_role("link", name="Voir tous les créneaux libres").click()
    expect(page.get_by_role("heading", name=re.compile("Choisissez un créneau"))).to_be_visible()
    violations["créneaux"] = audit(page)
    screenshot(page, "4-creneaux")

    page.locator("button[name=debut]").first.click()
    expect(page.get_by_role("heading", name=re.compile("Vos coordonnées"))).to_be_visible()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()  # nothing typed
    expect(page.get_by_role("alert")).to_contain_text("Indiquez votre nom")
    violations["formulaire en erreur"] = audit(page)
    screenshot(page, "5-formulaire-erreurs")

    fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    violations["confirmation"] = audit(page)
    screenshot(page, "6-confirmation")
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        assert booking.phone == "+33612345678"
        expect(page.locator(".reference")).to_have_text(booking.reference)

    page.goto("/unites/inconnue")
    violations["404"] = audit(page)
    page.goto("/opendata/")
    violations["données ouvertes"] = audit(page)
    assert {name: found for name, found in violations.items() if found} == {}


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never received the focus")


def test_the_whole_journey_works_with_the_keyboard_only(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    page.goto("/")
    tab_to(page, "#q")
    page.keyboard.type("01210")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="1 unité trouvée")).to_be_visible()
    tab_to(page, "ul.results a")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("choisissez le motif"))).to_be_visible()
    tab_to(page, 'a[href*="motif=signalement"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Choisissez un créneau"))).to_be_visible()
    tab_to(page, "button[name=debut]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Vos coordonnées"))).to_be_visible()
    tab_to(page, "#name")
    page.keyboard.type("Dominique Keyboard")
    tab_to(page, "#email")
    page.keyboard.type("dominique@example.org")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Booking.name)) == "Dominique Keyboard"


def test_lost_race_in_two_browsers(new_page: Callable[..., Page], app: Flask) -> None:
    first, second = new_page(), new_page()
    for page in (first, second):
        page.goto("/unites/01281-01/creneaux?motif=otv")
    slot = first.locator("button[name=debut]").nth(2)
    value = slot.get_attribute("value")
    slot.click()
    second.locator(f'button[name=debut][value="{value}"]').click()
    fill_details(first)
    fill_details(second, name="Alex Second", mail="alex@example.org")
    first.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(first.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    second.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(second.get_by_role("alert")).to_contain_text("Quelqu'un vient de prendre ce créneau")
    expect(second.get_by_text("Créneau : à choisir ci-dessous")).to_be_visible()
    expect(second.get_by_role("radio").first).not_to_be_checked()
    expect(second.get_by_label("Nom et prénom")).to_have_value("Alex Second")  # form kept
    assert audit(second) == []
    second.locator("#start label").first.click()  # as a person taps the time
    expect(second.get_by_role("radio").first).to_be_checked()
    second.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(second.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    with app.app_context():
        starts = sorted(db.session.scalars(select(Booking.starts_at)))
    assert len(starts) == 2
    assert starts[0] != starts[1]


def test_cancellation_from_the_emails_link(new_page: Callable[..., Page], app: Flask) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=signalement")
    page.locator("button[name=debut]").first.click()
    fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    with app.app_context():
        entry = db.session.scalar(select(OutboxMessage))
    message = rendered(app, entry)  # as the job runner sends it
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    link = re.search(r"http://\S+(/rendez-vous/\S+)", text)
    assert link
    mail_client = new_page()
    mail_client.goto(link.group(1))
    expect(mail_client.get_by_text("confirmé", exact=True)).to_be_visible()  # GET changed nothing
    assert audit(mail_client) == []
    screenshot(mail_client, "7-gerer-le-rendez-vous")
    mail_client.get_by_role("button", name="Annuler ce rendez-vous").click()
    expect(mail_client.get_by_role("heading", name="Annuler ce rendez-vous ?")).to_be_visible()
    assert audit(mail_client) == []
    screenshot(mail_client, "8-annuler-confirmation")
    mail_client.get_by_role("link", name="Non, garder mon rendez-vous").click()  # a change of mind
    expect(mail_client.get_by_text("confirmé", exact=True)).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
    mail_client.get_by_role("button", name="Annuler ce rendez-vous").click()
    mail_client.get_by_role("button", name="Oui, annuler ce rendez-vous").click()
    expect(mail_client.get_by_role("status")).to_contain_text("Votre rendez-vous est annulé")
    expect(mail_client.get_by_text("annulé à votre demande")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "cancelled_by_citizen"


def test_the_audit_does_catch_violations(new_page: Callable[..., Page]) -> None:
    """The audit is not a rubber stamp: an unlabelled field and a low contrast fail it."""
    page = new_page()
    bad = (
        '<html lang="fr"><body><main><input type="text">'
        '<p style="color:#bbb;background:#fff">Texte pâle</p></main></body></html>'
    )
    page.route("**/mauvaise-page", lambda route: route.fulfill(body=bad, content_type="text/html"))
    page.goto("/mauvaise-page")
    found = " ".join(audit(page))
    assert "label" in found
    assert "color-contrast" in found

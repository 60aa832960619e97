"""Discretion on a 390×844 phone (SPEC §17): through the violence branch of the orienteur
to a booking with no email address, then the quick exit; the back button shows no
sensitive page; a discreet booking's email and invitation tell nothing; axe-clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking
from booking.services.messages.outbox import send_outbox
from tests.e2e.conftest import audit, screenshot
from tests.support.smtp import SmtpServer

NEUTRAL = "https://meteofrance.com/"
TELLING = re.compile(r"gendarmerie|plainte|violence|auteur|brigade", re.I)
SENSITIVE_PAGES = ("/orientation/accompagnement", "/orientation/issue/rdv_accompagnement")


def _neutral(route: Route) -> None:
    """The neutral site, served without the network."""
    route.fulfill(status=200, content_type="text/html", body="<title>Météo</title><p>Météo</p>")


def tap(page: Page, name: str) -> None:
    """Tap a link, and let its page settle (scripts included)."""
    page.get_by_role("link", name=name).tap()
    page.wait_for_load_state()


def through_the_violence_branch(page: Page) -> None:
    """The home page, the orienteur, the sensitive question, the appointment outcome."""
    page.goto("/")
    tap(page, "Trouver la bonne démarche en quelques questions")
    expect(page.get_by_text("navigation privée")).to_be_visible()
    tap(page, "J'ai été victime ou témoin de faits")
    tap(page, "Des violences dans le couple ou la famille, ou des violences sexuelles")
    expect(page.get_by_role("heading", name="Que souhaitez-vous faire ?")).to_be_visible()
    assert page.title() == "Rendez-vous"  # the browser's history keeps titles
    assert audit(page) == []
    tap(page, "Être reçu(e) par un gendarme pour porter plainte")
    expect(
        page.get_by_role("heading", name="Prenez rendez-vous pour porter plainte")
    ).to_be_visible()
    assert audit(page) == []


def shows_no_sensitive_page(page: Page) -> None:
    """What the back button shows: a page of the site that tells nothing of the branch."""
    page.wait_for_load_state()
    assert not any(path in page.url for path in SENSITIVE_PAGES), page.url
    body = page.locator("body").inner_text()
    assert "porter plainte" not in body
    assert "Que souhaitez-vous faire" not in body
    expect(page.get_by_role("link", name="Quitter ce site")).to_have_count(0)


def test_back_after_the_quick_exit_shows_no_sensitive_page(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.route(f"{NEUTRAL}**", _neutral)
    through_the_violence_branch(page)
    depth = page.evaluate("history.length")
    page.get_by_role("link", name="Quitter ce site").tap()
    page.wait_for_url(NEUTRAL)
    assert page.evaluate("history.length") == depth  # replaced, not added
    page.go_back()  # the page before the branch, itself replaced on the way in: the start
    shows_no_sensitive_page(page)
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()


def test_a_booking_without_email_after_the_violence_branch_then_the_quick_exit(
    new_page: Callable[..., Page], app: Flask, tmp_path: Path
) -> None:
    page = new_page(accept_downloads=True)
    page.route(f"{NEUTRAL}**", _neutral)
    through_the_violence_branch(page)
    tap(page, "Choisir ma brigade")
    page.get_by_label("Votre commune, votre code postal ou le nom de l'unité").fill("01210")
    page.get_by_role("button", name="Rechercher").tap()
    tap(page, "Gendarmerie - Brigade de proximité d'Ornex")
    expect(page.locator("button[name=debut]").first).to_be_in_viewport()
    page.locator("button[name=debut]").first.tap()
    page.wait_for_load_state()
    discreet = page.get_by_label("Je souhaite une prise de contact discrète")
    expect(discreet).to_be_checked()  # the visit saw a sensitive page
    expect(page.locator("body")).not_to_contain_text("auteur est connu")
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    assert audit(page) == []
    screenshot(page, "13a-discret-formulaire")
    page.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.get_by_text("Gardez ces informations en lieu sûr")).to_be_visible()
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert booking.discreet
        assert booking.email == ""
    expect(page.locator(".reference")).to_have_text(booking.reference)
    expect(page.locator(".manage-link")).to_contain_text(f"/rendez-vous/{booking.reference}")
    assert audit(page) == []
    screenshot(page, "13b-discret-sans-courriel")
    with page.expect_download() as loading:
        page.get_by_role("link", name=re.compile("Enregistrer l'invitation")).tap()
    ics = Path(loading.value.path()).read_text(encoding="utf-8")
    assert "SUMMARY:Rendez-vous" in ics
    assert not TELLING.search(ics), TELLING.search(ics)

    page.get_by_role("link", name="Quitter ce site").tap()
    page.wait_for_url(NEUTRAL)
    page.go_back()
    shows_no_sensitive_page(page)


def test_a_discreet_booking_s_email_tells_nothing(
    new_page: Callable[..., Page], app: Flask, smtp: SmtpServer
) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=faits_auteur_connu")
    page.locator("button[name=debut]").first.tap()
    page.wait_for_load_state()
    page.get_by_label("Nom et prénom").fill("Camille Martin")
    page.get_by_label("Adresse électronique").fill("camille@example.org")
    page.locator("label[for=discret]").click()  # the DSFR box: its label takes the tap
    expect(page.get_by_label("Je souhaite une prise de contact discrète")).to_be_checked()
    page.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.get_by_text("il ne dit ni le motif")).to_be_visible()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    with app.app_context():
        assert send_outbox() == 1
    [message] = smtp.messages
    said = [str(message["Subject"]), str(message["From"])]
    said += [
        str(part.get_content()) for part in message.walk() if part.get_content_maintype() == "text"
    ]
    assert not TELLING.search("\n".join(said)), TELLING.search("\n".join(said))

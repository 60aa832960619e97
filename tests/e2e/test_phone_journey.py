"""What stopped or confused people on a 390×844 phone: next weeks out of reach, a second
booking with the back button, one-tap cancelling, a move limited to five days, zones in
English, a heavy first page, a printed agenda on two pages, a site that did not say who
runs it. Every test also fails on any failed request or console error (conftest)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Response, expect
from sqlalchemy import func, select

from booking.extensions import db
from booking.keys import derive
from booking.models import Booking, Unit
from booking.services.staff.accounts import create_staff
from booking.tokens import hash_token, link_token
from tests.e2e.conftest import ALWAYS_OPEN, PHONE, audit, screenshot
from tests.e2e.test_citizen_journey import fill_details
from tests.support.server import Server
from tests.support.staff import browser_sign_in

PAGE_BYTES_TARGET = 200_000


def no_sideways_scroll(page: Page) -> None:
    """The page fits the phone's width: nothing to scroll sideways to."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width} px wide"  # type: ignore[index]


def bookings_made(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(Booking.id))) or 0)


def test_a_first_visit_is_light_and_static_files_are_kept_a_year(
    browser: Browser, live: Server
) -> None:
    """Measured, not asserted: the bytes a first visit to the home page transfers."""
    context = browser.new_context(base_url=f"http://127.0.0.1:{live.port}", **PHONE)
    page = context.new_page()
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/", wait_until="networkidle")
    sizes = {}
    for response in responses:
        measured = response.request.sizes()
        sizes[response.url] = measured["responseBodySize"] + measured["responseHeadersSize"]
    total = sum(sizes.values())
    print(
        f"\nfirst visit to the home page: {total / 1000:.1f} kB over {len(sizes)} requests"
        f" (target: under {PAGE_BYTES_TARGET / 1000:.0f} kB)"
    )
    for url, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"  {size / 1000:7.1f} kB  /{url.split('/', 3)[-1]}")
    [css] = [r for r in responses if "/dsfr/dsfr.min." in r.url]
    headers = css.all_headers()
    assert headers["content-encoding"] == "br"
    assert headers["cache-control"] == "max-age=31536000, public, immutable"
    fonts = [r.url for r in responses if r.url.endswith(".woff2")]
    assert fonts  # Marianne, as the State's design system sets it…
    assert not [url for url in fonts if "-complet." in url]  # …in its French-text subset
    context.close()


def test_the_search_sits_in_the_first_screen_and_results_take_the_focus(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.goto("/")
    field = page.get_by_label("Votre commune, votre code postal ou le nom de l'unité")
    box = field.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 844  # typed into without scrolling
    button = page.get_by_role("button", name="Rechercher").bounding_box()
    assert button is not None
    assert button["y"] + button["height"] <= 844
    field.fill("01210")
    page.get_by_role("button", name="Rechercher").click()
    heading = page.get_by_role("heading", name="1 unité trouvée")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()  # scrolled to, not 1,200 px below
    no_sideways_scroll(page)


def test_every_week_of_the_horizon_is_reachable_on_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=otv")
    expect(page.get_by_role("link", name="Semaine précédente")).to_have_count(0)
    weeks = [page.get_by_role("heading", name=re.compile("^Créneaux ")).inner_text()]
    screenshot(page, "4b-semaines")
    while page.get_by_role("link", name="Semaine suivante").count():
        following = page.get_by_role("link", name="Semaine suivante").last
        box = following.bounding_box()
        assert box is not None
        assert box["width"] > 120  # its words show, not an empty box
        expect(following).to_be_visible()
        following.tap()
        weeks.append(page.get_by_role("heading", name=re.compile("^Créneaux ")).inner_text())
        expect(page.locator("button[name=debut]").first).to_be_visible()
        no_sideways_scroll(page)
    assert len(weeks) == 5  # 28 days: this week and four more
    assert len(set(weeks)) == 5
    expect(page.get_by_role("link", name="Semaine précédente").first).to_be_visible()
    assert audit(page) == []


def test_back_then_confirm_again_leads_to_the_same_booking(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=otv")
    page.locator("button[name=debut]").nth(3).click()
    fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    no_sideways_scroll(page)
    reference = page.locator(".reference").inner_text()
    expect(page.get_by_text("Un rappel vous sera envoyé")).to_have_count(0)  # it is today
    page.go_back()
    expect(page.get_by_role("heading", name=re.compile("Vos coordonnées"))).to_be_visible()
    if not page.get_by_label("Nom et prénom").input_value():  # the form shown afresh
        fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.locator(".reference")).to_have_text(reference)
    expect(page.get_by_text("plus disponible")).to_have_count(0)
    assert bookings_made(app) == 1


def test_a_mistake_in_the_form_takes_the_focus_to_the_list_of_errors(
    new_page: Callable[..., Page], app: Flask
) -> None:
    """Sent with an empty name and a wrong email: the error summary is focused (a screen
    reader reads it first), each error links to its field, the page fits the phone."""
    page = new_page()
    page.goto("/unites/01281-01/creneaux?motif=otv")
    page.locator("button[name=debut]").nth(2).click()
    no_sideways_scroll(page)
    assert audit(page) == []  # the empty form
    page.get_by_label("Adresse électronique").fill("pas-une-adresse")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    summary = page.locator("#erreurs")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    summary.get_by_role("link").last.click()
    expect(page.get_by_label("Adresse électronique")).to_be_focused()
    no_sideways_scroll(page)
    assert audit(page) == []
    assert bookings_made(app) == 0


def test_a_booking_moves_to_a_later_week_and_cancelling_asks_first(
    new_page: Callable[..., Page], app: Flask, create_booking: Callable[..., Booking], ornex: Unit
) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    token = link_token("deplacer@rdv.test", derive(app.config["SECRET_KEY"], "links"))
    booking = create_booking(
        ornex, start, ics_uid="deplacer@rdv.test", token_hash=hash_token(token)
    )
    page = new_page()
    page.goto(f"/rendez-vous/{booking.reference}?token={token}")
    expect(page.get_by_text(re.compile("^Créneaux libres du"))).to_be_visible()
    no_sideways_scroll(page)
    page.get_by_role("link", name="Semaine suivante").tap()
    expect(page.get_by_role("link", name="Semaine précédente")).to_be_visible()
    days_ahead = page.locator("input[name=start]").first.get_attribute("value")
    assert days_ahead is not None
    page.locator("#deplacer ~ form label").first.tap()
    page.get_by_role("button", name="Déplacer à ce créneau").tap()
    expect(page.get_by_role("status")).to_contain_text("Rendez-vous déplacé")
    with app.app_context():
        moved = db.session.scalar(select(Booking.starts_at))
    assert moved == datetime.fromisoformat(days_ahead).astimezone(UTC)
    paris = ZoneInfo("Europe/Paris")
    assert moved.astimezone(paris).date() >= datetime.now(paris).date() + timedelta(days=7)
    screenshot(page, "7b-deplacer")

    page.get_by_role("button", name="Annuler ce rendez-vous").tap()
    expect(page.get_by_role("heading", name="Annuler ce rendez-vous ?")).to_be_visible()
    no_sideways_scroll(page)
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"  # one tap: nothing
    page.get_by_role("button", name="Oui, annuler ce rendez-vous").tap()
    expect(page.get_by_role("status")).to_contain_text("Votre rendez-vous est annulé")


def test_overseas_zones_are_named_in_french(
    new_page: Callable[..., Page], create_unit: Callable[..., Unit]
) -> None:
    create_unit(
        public_id="97411-01",
        name="Gendarmerie - Brigade de Saint-Denis",
        department="974",
        postcode="97400",
        commune="Saint-Denis",
        hours=ALWAYS_OPEN,
    )
    page = new_page()
    page.goto("/unites/97411-01")
    expect(page.get_by_text("Horaires à l'heure de La Réunion.")).to_be_visible()
    page.goto("/unites/97411-01/creneaux?motif=otv")
    expect(page.get_by_text("Horaires à l'heure de La Réunion.")).to_be_visible()
    page.locator("button[name=debut]").first.click()
    expect(page.get_by_text(re.compile(r"heure de La Réunion, UTC\+4"))).to_be_visible()
    assert "Indian/Reunion" not in page.content()


@pytest.mark.parametrize("path", ["/accessibilite", "/mentions-legales", "/api"])
def test_the_site_says_who_runs_it(new_page: Callable[..., Page], path: str) -> None:
    page = new_page()
    page.goto(path)
    expect(page.locator(".fr-header .fr-logo")).to_have_text(re.compile("Ministère"))
    footer = page.locator("footer")
    expect(
        footer.get_by_role("link", name="Accessibilité : partiellement conforme")
    ).to_be_visible()
    expect(footer.get_by_role("link", name="API")).to_have_attribute("href", "/api")
    assert audit(page) == []
    no_sideways_scroll(page)
    screenshot(page, "11-" + path.strip("/"))


def test_the_journey_works_without_javascript(new_page: Callable[..., Page], app: Flask) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.get_by_label("Votre commune, votre code postal ou le nom de l'unité").fill("Ornex")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Gendarmerie - Brigade de proximité d'Ornex").click()
    page.get_by_role("link", name=re.compile("Opération Tranquillité Vacances")).first.click()
    page.locator("button[name=debut]").first.click()
    fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    assert bookings_made(app) == 1


def count_pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_the_agenda_prints_on_one_a4_page_without_buttons(
    new_page: Callable[..., Page],
    app: Flask,
    ornex: Unit,
    create_booking: Callable[..., Booking],
) -> None:
    paris = ZoneInfo("Europe/Paris")
    day = datetime.now(paris).date() + timedelta(days=1)
    for n in range(8):  # a full morning
        start = datetime.combine(day, time(8), paris).astimezone(UTC) + timedelta(minutes=30 * n)
        create_booking(
            ornex,
            start,
            name=f"Dominique Exemple-Numéro-{n} de la Longue-Famille",
            phone="+33612345678",
            comment="Vol de vélo devant la boulangerie, la veille au soir, vers 21 heures.",
        )
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", "mot de passe solide", ["01281-01"])
    page = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    browser_sign_in(page, app, "agent@gendarmerie.interieur.gouv.fr", "mot de passe solide")
    page.goto(f"/staff/units/01281-01/agenda?date={day.isoformat()}")
    printing = page.get_by_role("button", name="Imprimer l'agenda")
    expect(printing).to_be_visible()
    arrivals = page.get_by_role("columnheader", name="Arrivé(e)")
    expect(arrivals).to_be_hidden()  # on paper only
    assert audit(page) == []

    page.emulate_media(media="print")
    expect(printing).to_be_hidden()
    expect(arrivals).to_be_visible()  # a column to tick each arrival by hand
    expect(page.get_by_role("button", name=re.compile("est venu$")).first).to_be_hidden()
    expect(page.get_by_text("Dominique Exemple-Numéro-7 de la Longue-Famille")).to_be_visible()
    pdf = page.pdf(format="A4", print_background=True)
    assert count_pdf_pages(pdf) == 1
    page.set_viewport_size({"width": 718, "height": 1047})  # A4 inside 10 mm margins, 96 dpi
    assert page.evaluate("document.documentElement.scrollWidth") <= 718  # nothing cut off
    page.emulate_media(media="screen")

    page.goto("/staff/units/01281-01/settings")
    start = page.get_by_label("Plage 1, début").first
    end = page.get_by_label("fin").first
    expect(start).not_to_have_attribute("placeholder", re.compile("."))
    start.fill("08:00")
    end.fill("12h60")
    page.get_by_role("button", name="Enregistrer les horaires et les guichets").click()
    expect(page.get_by_role("alert")).to_contain_text("heure impossible « 12h60 »")
    expect(end).to_have_value("12h60")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(start).to_have_value("08:00")
    assert audit(page) == []
    screenshot(page, "10-reglages-erreur")


def test_the_next_page_of_results_is_reachable_on_a_phone(
    new_page: Callable[..., Page], create_unit: Callable[..., Unit]
) -> None:
    for n in range(12):
        create_unit(public_id=f"01281-{n + 10}", name=f"Gendarmerie - Brigade d'Ornex {n + 10}")
    page = new_page()
    page.goto("/?q=ornex")
    expect(page.get_by_text("Page 1 sur 2")).to_be_visible()
    following = page.get_by_role("link", name="Page suivante")
    box = following.bounding_box()
    assert box is not None
    assert box["width"] > 100  # its words show, not an empty box
    following.tap()
    expect(page.get_by_text("Page 2 sur 2")).to_be_visible()
    expect(page.locator("ul.results > li")).to_have_count(3)  # 13 units, 10 a page
    expect(page.get_by_role("link", name="Page précédente")).to_be_visible()
    no_sideways_scroll(page)

"""The orienteur on a 390×844 phone: each step in the first screen, one outcome of each kind,
a booking with a pre-declaration read on the agent's agenda, and the quick exit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking
from booking.services.staff.accounts import create_staff
from tests.e2e.conftest import audit, screenshot
from tests.e2e.test_citizen_journey import fill_details
from tests.support.staff import browser_sign_in

NEUTRAL = "https://meteofrance.com/"


def the_step_fits_the_first_screen(page: Page) -> None:
    """The question and every answer are seen without scrolling; nothing is cut sideways."""
    last = page.locator(".orientation-choice").last
    box = last.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 844, (
        f"{page.url}: last answer ends at {box['y'] + box['height']}"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url}: {width} px wide"
    assert audit(page) == [], page.url


def answer(page: Page, label: str) -> None:
    """Tap an answer."""
    page.get_by_role("link", name=label).tap()


def test_an_emergency_is_two_taps_away_and_the_back_button_works(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Trouver la bonne démarche en quelques questions").tap()
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()
    the_step_fits_the_first_screen(page)
    screenshot(page, "12-orientation-question")
    answer(page, "J'ai été victime ou témoin de faits")
    the_step_fits_the_first_screen(page)
    page.go_back()  # outside the sensitive branches, the back button works as usual
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name="De quels faits s'agit-il ?")).to_be_visible()
    page.wait_for_load_state()
    answer(page, "Des violences dans le couple ou la famille, ou des violences sexuelles")
    expect(page.get_by_role("link", name="Quitter ce site")).to_be_in_viewport()
    the_step_fits_the_first_screen(page)
    answer(page, "Je suis en danger maintenant")
    call = page.get_by_role("link", name="Appeler le 17")
    expect(call).to_have_attribute("href", "tel:17")
    expect(call).to_be_in_viewport()
    expect(page.get_by_role("link", name="Envoyer un SMS au 114")).to_have_attribute(
        "href", "sms:114"
    )
    expect(page.get_by_role("link", name="Appeler le 112")).to_be_visible()
    assert audit(page) == []
    screenshot(page, "12b-orientation-urgence")
    page.go_back()  # the sensitive pages, and the way into them, replaced one another
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()


def test_an_online_service_is_reached_with_the_keyboard_alone(
    new_page: Callable[..., Page],
) -> None:
    page = new_page(is_mobile=False, has_touch=False, viewport={"width": 390, "height": 844})
    page.goto("/orientation/")
    for label in (
        "J'ai été victime ou témoin de faits",
        "Une arnaque, un piratage ou une fraude à la carte bancaire",
        "Un paiement par carte bancaire que je n'ai pas fait",
    ):
        target = page.get_by_role("link", name=label)
        for _ in range(40):  # Tab from the top of the page until the answer has the focus
            page.keyboard.press("Tab")
            if target.evaluate("element => element === document.activeElement"):
                break
        expect(target).to_be_focused()
        page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name="Signalez la fraude à la carte bancaire en ligne")
    ).to_be_visible()
    official = page.get_by_role("link", name="Signaler une fraude à la carte bancaire (Perceval)")
    expect(official).to_have_attribute(
        "href", "https://www.service-public.fr/particuliers/vosdroits/R46526"
    )
    assert audit(page) == []


def test_an_appointment_outcome_books_with_a_pre_declaration_read_on_the_agenda(
    new_page: Callable[..., Page], app: Flask
) -> None:
    page = new_page()
    page.goto("/orientation/")
    answer(page, "Je veux faire surveiller mon logement ou mon commerce")
    the_step_fits_the_first_screen(page)
    answer(page, "Mon logement, pendant mon absence")
    expect(
        page.get_by_role("heading", name="Inscrivez-vous à l'Opération Tranquillité Vacances")
    ).to_be_visible()
    assert audit(page) == []
    page.get_by_role("link", name="Choisir ma brigade").tap()
    expect(
        page.get_by_label("Opération Tranquillité Vacances (inscription ou renouvellement)")
    ).to_be_checked()
    page.get_by_label("Votre commune, votre code postal ou le nom de l'unité").fill("01210")
    page.get_by_role("button", name="Rechercher").tap()
    page.get_by_role("link", name="Gendarmerie - Brigade de proximité d'Ornex").tap()
    page.locator("button[name=debut]").first.tap()  # the unit's first slots come first
    fill_details(page)
    expect(page.get_by_role("group", name="Pour préparer votre venue (facultatif)")).to_be_visible()
    first_day = date.today() + timedelta(days=10)
    page.get_by_label("Premier jour d'absence").fill(first_day.isoformat())
    page.get_by_label("Dernier jour d'absence").fill((first_day + timedelta(days=14)).isoformat())
    page.get_by_label("Adresse du logement à surveiller").fill("3 rue des Lilas, Ornex")
    assert audit(page) == []
    screenshot(page, "12c-pre-declaration")
    page.get_by_role("button", name="Confirmer le rendez-vous").tap()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()

    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        day = booking.starts_at.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
        assert "Lilas" not in booking.pre_declaration  # sealed at rest
        create_staff("agent@gendarmerie.interieur.gouv.fr", "mot de passe solide", ["01281-01"])
    desk = new_page(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    browser_sign_in(desk, app, "agent@gendarmerie.interieur.gouv.fr", "mot de passe solide")
    desk.goto(f"/staff/units/01281-01/agenda?date={day}")
    declared = desk.locator(".predeclared")
    expect(declared).to_contain_text("Adresse du logement à surveiller")
    expect(declared).to_contain_text("3 rue des Lilas, Ornex")
    expect(declared).to_contain_text(first_day.strftime("%d/%m/%Y"))
    assert audit(desk) == []
    screenshot(desk, "12d-agenda-pre-declaration")


def _neutral(route: Route) -> None:
    """The neutral site, served without the network."""
    route.fulfill(status=200, content_type="text/html", body="<title>Météo</title><p>Météo</p>")


def test_the_quick_exit_leaves_no_way_back_to_the_sensitive_page(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.route(f"{NEUTRAL}**", _neutral)
    page.goto("/orientation/")
    answer(page, "J'ai été victime ou témoin de faits")
    expect(page.get_by_role("heading", name="De quels faits s'agit-il ?")).to_be_visible()
    page.wait_for_load_state()
    answer(page, "Des violences dans le couple ou la famille, ou des violences sexuelles")
    # On the sensitive page itself (a tap on the page before it, still shown while the
    # next one loads, would leave from there).
    expect(page.get_by_role("heading", name="Que souhaitez-vous faire ?")).to_be_visible()
    page.wait_for_load_state()  # the quick exit's script is in (before it, a plain link)
    page.get_by_role("link", name="Quitter ce site").tap()
    page.wait_for_url(NEUTRAL)
    page.go_back()  # the sensitive page, and the way into it, replaced: back to the start
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()

    page.wait_for_load_state()
    answer(page, "J'ai été victime ou témoin de faits")
    page.wait_for_load_state()
    answer(page, "Des violences dans le couple ou la famille, ou des violences sexuelles")
    expect(page.get_by_role("heading", name="Que souhaitez-vous faire ?")).to_be_visible()
    page.wait_for_load_state()
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    expect(
        page.get_by_role("heading", name="Pourquoi voulez-vous contacter la gendarmerie ?")
    ).to_be_visible()


def test_escape_pressed_once_or_twice_does_nothing(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.route(f"{NEUTRAL}**", _neutral)
    page.clock.install()
    page.goto("/orientation/accompagnement")
    page.wait_for_load_state()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.clock.fast_forward(2500)  # the presses are forgotten after two seconds
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Que souhaitez-vous faire ?")).to_be_visible()
    assert "/orientation/accompagnement" in page.url

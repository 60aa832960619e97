"""Finding the units near where one lives, in Chromium on a phone: suggestions while typing,
by touch and by keyboard, then the nearest units with their next slot."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from booking.extensions import db
from booking.models import Unit
from booking.services.places.gazetteer import load_places
from tests.e2e.conftest import ALWAYS_OPEN, audit, screenshot

AROUND = [  # (identifier, commune, département, postcode, latitude, longitude)
    ("45284-01", "Saint-Jean-de-Braye", "45", "45800", 47.9119, 1.9722),
    ("45232-01", "Olivet", "45", "45160", 47.8636, 1.9009),
    ("77111-01", "Chessy", "77", "77700", 48.8797, 2.7668),
]


@pytest.fixture(autouse=True)
def gazetteer(app: Flask, create_unit: Callable[..., Unit]) -> None:
    """The shipped gazetteer, and units around Orléans and Chessy (always open)."""
    for public_id, commune, department, postcode, latitude, longitude in AROUND:
        create_unit(
            public_id=public_id,
            name=f"Gendarmerie - Brigade de {commune}",
            commune=commune,
            department=department,
            postcode=postcode,
            street="1 rue de la Gendarmerie",
            latitude=latitude,
            longitude=longitude,
            hours=ALWAYS_OPEN,
        )
    with app.app_context():
        load_places()
        db.session.remove()


def type_place(page: Page, text: str) -> None:
    """Type in the place field as a person does, a key at a time."""
    field = page.get_by_role("combobox", name=re.compile("Votre commune"))
    field.click()
    field.press_sequentially(text, delay=40)


def test_orleans_chosen_among_the_suggestions_gives_its_nearest_units(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    page.goto("/")
    type_place(page, "orleans")
    option = page.get_by_role("option", name=re.compile(r"^Orléans \(45\)"))
    expect(option).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile("Votre commune"))).to_have_attribute(
        "aria-expanded", "true"
    )
    assert audit(page) == []  # the list open, as a screen reader meets it
    screenshot(page, "0-suggestions")
    option.tap()
    heading = page.get_by_role("heading", name="Les unités les plus proches d'Orléans (45)")
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()  # the results speak first, not the top of the page
    first = page.locator("ul.results > li").first
    expect(first).to_contain_text("Brigade de Olivet")
    expect(first).to_contain_text("Premier créneau libre")
    assert audit(page) == []


@pytest.mark.parametrize(
    ("typed", "suggested", "heading"),
    [
        ("45000", "Orléans (45)", "Les unités les plus proches d'Orléans (45)"),
        ("St Jean de Braye", "Saint-Jean-de-Braye (45)", "de Saint-Jean-de-Braye (45)"),
        ("chesy", "Chessy (77)", "Les unités les plus proches de Chessy (77)"),
    ],
)
def test_postcodes_abbreviations_and_typos_are_understood(
    new_page: Callable[..., Page], typed: str, suggested: str, heading: str
) -> None:
    page = new_page()
    page.goto("/")
    type_place(page, typed)
    page.get_by_role("option", name=re.compile("^" + re.escape(suggested))).tap()
    expect(page.get_by_role("heading", name=re.compile(re.escape(heading)))).to_be_visible()
    expect(page.locator("ul.results > li").first).to_contain_text("Premier créneau libre")


def test_the_suggestions_work_with_the_keyboard_alone(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto("/")
    for _ in range(40):  # to the field, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    page.keyboard.type("orlean", delay=40)
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    combobox = page.get_by_role("combobox", name=re.compile("Votre commune"))
    expect(combobox).to_have_attribute("aria-activedescendant", "q-option-0")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")  # opens the list again
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("plus proches d'Orléans"))).to_be_focused()


def test_a_search_without_javascript_still_understands_a_place(
    new_page: Callable[..., Page],
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.get_by_label(re.compile("Votre commune")).fill("saint-denis")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name=re.compile("Plusieurs communes"))).to_be_visible()
    page.get_by_role("link", name="Saint-Denis (974)").click()
    expect(page.get_by_role("heading", name=re.compile("de Saint-Denis \\(974\\)"))).to_be_visible()

"""Places written as people write them, in Chromium on a phone (SPEC §9): a commune with its
postcode in either order, La Poste's spelling then a choice among homonyms, and an overseas
postcode whose units the dataset does not place, with no unit across the sea shown first."""

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

UNITS = [  # (identifier, commune, INSEE, département, postcode, latitude, longitude)
    ("45232-01", "Olivet", "45232", "45", "45160", 47.8636, 1.9009),
    ("15138-01", "Maurs", "15138", "15", "15600", 44.7106, 2.1988),
    ("34301-01", "Saint-Pons-de-Thomières", "34284", "34", "34220", 43.4894, 2.7656),
    ("25462-01", "Mouthe", "25413", "25", "25240", 46.7103, 6.1937),
    ("61484-01", "Sées", "61464", "61", "61500", 48.6058, 0.1708),
    # As in the dataset: no coordinates for Martinique's units; Guadeloupe's is placed.
    ("97213-01", "Le Lamentin", "97213", "972", "97232", None, None),
    ("97105-01", "Basse-Terre", "97105", "971", "97100", 15.9985, -61.7255),
]


@pytest.fixture(autouse=True)
def gazetteer(app: Flask, create_unit: Callable[..., Unit]) -> None:
    """The shipped gazetteer and a few units (always open)."""
    for public_id, commune, insee, department, postcode, latitude, longitude in UNITS:
        create_unit(
            public_id=public_id,
            name=f"Gendarmerie - Brigade de {commune}",
            commune=commune,
            insee=insee,
            department=department,
            postcode=postcode,
            street="1 rue de la Gendarmerie",
            address=f"1 rue de la Gendarmerie {postcode} {commune.upper()}",
            latitude=latitude,
            longitude=longitude,
            hours=ALWAYS_OPEN,
        )
    with app.app_context():
        load_places()
        db.session.remove()


def search(page: Page, typed: str) -> None:
    """Type a place and press the search button, as one does without waiting for the list."""
    page.goto("/")
    field = page.get_by_role("combobox", name=re.compile("Votre commune"))
    field.fill(typed)
    page.get_by_role("button", name="Rechercher").click()


@pytest.mark.parametrize(
    ("typed", "heading", "first"),
    [
        ("45000 Orléans", "Les unités les plus proches d'Orléans (45)", "Brigade de Olivet"),
        ("Orléans 45000", "Les unités les plus proches d'Orléans (45)", "Brigade de Olivet"),
        ("Boisset 15600", "Les unités les plus proches de Boisset (15)", "Brigade de Maurs"),
        ("34220 BOISSET", "Les unités les plus proches de Boisset (34)", "Saint-Pons"),
    ],
)
def test_a_commune_and_its_postcode_in_either_order(
    new_page: Callable[..., Page], typed: str, heading: str, first: str
) -> None:
    page = new_page()
    search(page, typed)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("ul.results > li").first).to_contain_text(first)
    assert audit(page) == []


def test_la_postes_spelling_asks_which_one_then_gives_its_units(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    search(page, "CHAUX (LA)")
    heading = page.get_by_role("heading", name="Plusieurs communes s'appellent « La Chaux »")
    expect(heading).to_be_visible()
    choices = page.locator("ul.place-choices > li")
    expect(choices).to_have_count(3)
    expect(choices.first).to_contain_text("La Chaux (25)")
    assert audit(page) == []
    screenshot(page, "places-chaux-la")
    page.get_by_role("link", name="La Chaux (61)").tap()
    chosen = page.get_by_role("heading", name="Les unités les plus proches de La Chaux (61)")
    expect(chosen).to_be_visible()
    expect(page.locator("ul.results > li").first).to_contain_text("Brigade de Sées")


def test_a_fort_de_france_postcode_gives_martinique_s_units_first(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    search(page, "97200")
    expect(
        page.get_by_role("heading", name="Les unités les plus proches de Fort-de-France (972)")
    ).to_be_visible()
    results = page.locator("ul.results > li")
    expect(results).to_have_count(1)  # Martinique's own unit, not Guadeloupe's
    expect(results.first).to_contain_text("Brigade de Le Lamentin")
    expect(results.first).to_contain_text("à environ 7,4 km")  # to Le Lamentin's town hall
    assert audit(page) == []
    screenshot(page, "places-fort-de-france")
    results.first.get_by_role("link").tap()
    expect(page.get_by_text("Position approximative")).to_be_visible()
    assert audit(page) == []


def test_a_name_and_a_postcode_that_do_not_go_together_say_so(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    search(page, "Trucmuche 45000")
    expect(
        page.get_by_text("« Trucmuche » n'est pas une commune du code postal 45000.")
    ).to_be_visible()
    expect(page.locator("ul.results > li").first).to_contain_text("Brigade de Olivet")
    assert audit(page) == []


def test_paris_says_it_is_police_territory_before_the_nearest_units(
    new_page: Callable[..., Page],
) -> None:
    page = new_page()
    search(page, "PARIS 15")
    expect(page.get_by_text("c'est la police nationale qui vous reçoit")).to_be_visible()
    expect(page.get_by_role("link", name="pré-plainte en ligne")).to_be_visible()
    expect(page.locator("ul.results > li").first).to_be_visible()
    assert audit(page) == []
    screenshot(page, "places-paris-15")

"""How a query is read into a name and a postcode (booking.domain.place_query)."""

from __future__ import annotations

import pytest

from booking.domain.place_query import TypedPlace, read_place


@pytest.mark.parametrize(
    ("query", "name", "postcode"),
    [
        ("45000 Orléans", "Orléans", "45000"),
        ("Orléans 45000", "Orléans", "45000"),
        ("Orléans, 45000", "Orléans", "45000"),
        ("12 rue de la République 45000 Orléans", "Orléans", "45000"),
        ("Mairie, 3 place de l'Étape, 45000 Orléans Cedex", "Orléans", "45000"),
        ("12 rue de la République, 45000", "", "45000"),  # a street is no commune
        ("ORLEANS CEDEX 1", "ORLEANS", ""),
        ("45077 ORLEANS CEDEX 12", "ORLEANS", "45077"),
        ("45000", "", "45000"),
        ("450", "450", ""),  # a postcode begun is left to the search
        ("CHAUX (LA)", "LA CHAUX", ""),
        ("LOGES MARCHIS (LES)", "LES LOGES MARCHIS", ""),
        ("HAVRE (LE)", "LE HAVRE", ""),
        ("ABERGEMENT CLEMENCIAT (L')", "L'ABERGEMENT CLEMENCIAT", ""),
        ("PARIS 15", "Paris 15e Arrondissement", ""),
        ("Paris 1er", "Paris 1er Arrondissement", ""),
        ("paris 20e arrondissement", "Paris 20e Arrondissement", ""),
        ("MARSEILLE 13EME", "Marseille 13e Arrondissement", ""),
        ("Lyon 3e", "Lyon 3e Arrondissement", ""),
        ("Saint-Denis (974)", "Saint-Denis (974)", ""),  # a suggestion's label is not read here
        ("  ", "", ""),
        ("45000-Orléans", "Orléans", "45000"),  # glued by a hyphen
        ("Orléans-45000", "Orléans", "45000"),
        ("Orléans, France", "Orléans", ""),  # the country, as forms of other sites ask it
        ("ORLEANS 45000 FRANCE", "ORLEANS", "45000"),
        ("Fort de France", "Fort de France", ""),  # not the country
        ("paris XV", "Paris 15e Arrondissement", ""),  # Roman numerals
        ("Paris 15", "Paris 15e Arrondissement", ""),  # an arrondissement, not the Cantal
        ("La Réunion", "La Réunion", ""),  # a commune of Lot-et-Garonne, not the island
        ("Guyane", "Guyane", ""),
    ],
)
def test_a_query_is_read_into_its_parts(query: str, name: str, postcode: str) -> None:
    assert read_place(query) == TypedPlace(name, postcode)


@pytest.mark.parametrize(
    ("query", "name", "departments"),
    [
        ("45 Orléans", "Orléans", ("45",)),
        ("orleans 45", "orleans", ("45",)),
        ("Boisset 15", "Boisset", ("15",)),
        ("Ajaccio 2A", "Ajaccio", ("2A",)),
        ("Saint-Denis 974", "Saint-Denis", ("974",)),
        ("Saint-Denis, La Réunion", "Saint-Denis", ("974",)),
        ("Le Lamentin Martinique", "Le Lamentin", ("972",)),
        ("Calvi Corse", "Calvi", ("2A", "2B")),
        ("Paris 21", "Paris", ("21",)),  # no 21st arrondissement: a département, left aside
        ("Lyon 10", "Lyon", ("10",)),  # when it holds no such name (see test_place_matching)
    ],
)
def test_a_departement_beside_the_name_is_read(
    query: str, name: str, departments: tuple[str, ...]
) -> None:
    assert read_place(query) == TypedPlace(name, "", departments)

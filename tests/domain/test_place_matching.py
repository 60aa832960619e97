"""Spec §9: a place typed as people type it, and which one they mean."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from booking.domain.places import PlaceEntry, PlaceIndex, place_key


def close_names(query: str, keys: Sequence[str], limit: int) -> list[tuple[int, float]]:
    """A stand-in for the service's scorer (rapidfuzz): one minus the edits (optimal string
    alignment: a swap is one edit) per letter of the query, 0.75 and up."""
    scored = [(i, 1 - edits(query, key) / len(query)) for i, key in enumerate(keys)]
    return sorted((item for item in scored if item[1] >= 0.75), key=lambda item: -item[1])[:limit]


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def place(
    code: str,
    name: str,
    department: str,
    postcodes: str,
    population: int,
    kind: str = "commune",
    point: tuple[float, float] | None = (47.0, 2.0),
) -> PlaceEntry:
    """A place of the little gazetteer below."""
    return PlaceEntry(
        code, code[:5], name, kind, department, tuple(postcodes.split()), point, population
    )


PLACES = [
    place("45234", "Orléans", "45", "45000 45100", 116_000, point=(47.9032, 1.90845)),
    place("45284", "Saint-Jean-de-Braye", "45", "45800", 21_000, point=(47.9119, 1.9722)),
    place("45272", "Saint-Cyr-en-Val", "45", "45590", 3_300),
    place("45285", "Saint-Jean-de-la-Ruelle", "45", "45140", 16_000),
    place("77111", "Chessy", "77", "77700", 5_500),
    place("69059", "Chessy", "69", "69380", 2_000),
    place("93066", "Saint-Denis", "93", "93200 93210", 113_000, point=(48.936, 2.357)),
    place("97411", "Saint-Denis", "974", "97400 97490", 153_000, point=(-20.879, 55.449)),
    place("76351", "Le Havre", "76", "76600 76610 76620", 166_000),
    place("01001", "L'Abergement-Clémenciat", "01", "01400", 800),
    place("75105", "Paris 5e Arrondissement", "75", "75005", 58_000, kind="arrondissement"),
    place("75056", "Paris", "75", "75001 75005", 2_100_000),
    place("50129", "Cherbourg-en-Cotentin", "50", "50100 50110", 78_000),
    place("50129-deleguee", "Cherbourg-Octeville", "50", "50100 50110", 35_000, kind="deleguee"),
    place("98735", "Papeete", "987", "98714", 26_000, point=None),
    place("25139", "La Chaux", "25", "25650", 614),
    place("61101", "La Chaux", "61", "61600", 80),
    place("70142", "Chaux-la-Lotière", "70", "70190", 300),
    place("15021", "Boisset", "15", "15600", 700),
    place("34034", "Boisset", "34", "34220", 30),
    place("43034", "Boisset", "43", "43500", 60),
    place("15100", "Cayrols", "15", "15290", 200),
    place("69383", "Lyon 3e Arrondissement", "69", "69003", 100_000, kind="arrondissement"),
    place("69123", "Lyon", "69", "69001 69003", 520_000),
]


@pytest.fixture(scope="module")
def index() -> PlaceIndex:
    """The little gazetteer, indexed."""
    return PlaceIndex(PLACES, close_names)


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("orleans", "45234"),  # no accent, lower case
        ("ORLÉANS", "45234"),  # capitals
        ("Orléans (45)", "45234"),  # a suggestion's own label
        ("St Jean de Braye", "45284"),  # St for Saint, spaces for hyphens
        ("st-jean-de-braye", "45284"),
        ("Saint-Cyr-en-Val", "45272"),  # as written
        ("saint cyr en", "45272"),  # begun
        ("havre", "76351"),  # without its article
        ("labergement clemenciat", "01001"),  # the elided article glued on
        ("orlean", "45234"),  # the start of a name
        ("orelans", "45234"),  # a typo in seven letters, when no other name is as close
        ("Saint-Denis (974)", "97411"),  # a homonym, chosen by its département
        ("Cherbourg-Octeville", "50129-deleguee"),  # a delegated commune people still name
        ("45234", "45234"),  # an INSEE code
        ("paris 5", "75105"),  # an arrondissement by its name
        ("papeete", "98735"),  # a commune without a point is found all the same
    ],
)
def test_a_query_means_one_place(index: PlaceIndex, query: str, meant: str) -> None:
    found = index.resolve(query)
    assert found.place is not None, (query, [c.label for c in found.choices])
    assert found.place.code == meant


@pytest.mark.parametrize(
    ("query", "labels", "same_name"),
    [
        ("saint-denis", ["Saint-Denis (974)", "Saint-Denis (93)"], True),  # most populous first
        ("chessy", ["Chessy (77)", "Chessy (69)"], True),
        ("chesy", ["Chessy (77)", "Chessy (69)"], False),  # under seven letters: a choice
        ("orleansss", ["Orléans (45)"], False),  # two edits: offered, not taken
        ("saint jean de", ["Saint-Jean-de-Braye (45)", "Saint-Jean-de-la-Ruelle (45)"], False),
    ],
)
def test_a_query_with_several_meanings_offers_a_choice(
    index: PlaceIndex, query: str, labels: list[str], same_name: bool
) -> None:
    found = index.resolve(query)
    assert found.place is None
    assert [entry.label for entry in found.choices] == labels
    assert found.exact is same_name


def test_a_postcode_resolves_to_the_middle_of_its_places(index: PlaceIndex) -> None:
    one = index.resolve("45000")
    assert one.place is not None
    assert one.label == "Orléans (45)"
    assert one.point == (47.9032, 1.90845)
    shared = index.resolve("75005")  # Paris and its 5th arrondissement
    assert shared.label == "code postal 75005"
    assert shared.point == (47.0, 2.0)


@pytest.mark.parametrize("query", ["", "x", "zzzzqqq", "99999", "2C123"])
def test_a_query_that_means_nothing_resolves_to_nothing(index: PlaceIndex, query: str) -> None:
    found = index.resolve(query)
    assert found.place is None
    assert found.choices == []


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("orl", "Orléans (45)"),  # three letters are enough
        ("sai", "Saint-Denis (974)"),  # the most populous first
        ("4500", "Orléans (45)"),  # the start of a postcode
        ("750", "Paris (75)"),  # a postcode begun, the most populous place first
        ("45", "Orléans (45)"),
        ("jean de b", "Saint-Jean-de-Braye (45)"),  # a word inside the name
    ],
)
def test_suggestions_while_typing(index: PlaceIndex, query: str, first: str) -> None:
    suggested = index.suggest(query, 5)
    assert suggested
    assert suggested[0].label == first


def test_no_suggestion_under_two_characters(index: PlaceIndex) -> None:
    assert index.suggest("o") == []
    assert index.suggest("or")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Saint-Étienne", "saint etienne"),
        ("St Étienne", "saint etienne"),
        ("Ste-Marie", "sainte marie"),
        ("L'Abergement", "l abergement"),
        ("  OEUVRE  ", "oeuvre"),
    ],
)
def test_place_keys(text: str, key: str) -> None:
    assert place_key(text) == key


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("45000 Orléans", "45234"),  # the search box's own example
        ("Orléans 45000", "45234"),
        ("orleans 45100", "45234"),  # its other postcode
        ("Boisset 15600", "15021"),  # the postcode chooses among homonyms
        ("15600 BOISSET", "15021"),
        ("34220 Boisset", "34034"),
        ("Boiset 15600", "15021"),  # a typo beside its postcode
        ("12 rue de la République 45000 Orléans", "45234"),  # a postal address
        ("3 place de l'Étape, 45000 ORLEANS CEDEX 1", "45234"),
        ("45077 ORLEANS CEDEX 2", "45234"),  # a CEDEX code is nobody's: the name decides
        ("ST JEAN DE BRAYE", "45284"),  # La Poste's spelling
        ("ABERGEMENT CLEMENCIAT (L')", "01001"),  # its article after the name
        ("PARIS 5", "75105"),  # arrondissements as people write them
        ("Paris 5e", "75105"),
        ("LYON 3EME", "69383"),
        ("Lyon 03", "69383"),
        ("Boisset 34", "34034"),  # a département beside the name chooses
        ("43 BOISSET", "43034"),
        ("Orléans, France", "45234"),
        ("Cayrols 45", "15100"),  # a département without that name is left aside
    ],
)
def test_places_written_as_people_write_them(index: PlaceIndex, query: str, meant: str) -> None:
    found = index.resolve(query)
    assert found.place is not None, (query, [c.label for c in found.choices], found.note)
    assert found.place.code == meant
    assert found.note == ""


def test_la_postes_article_after_the_name_asks_which_one(index: PlaceIndex) -> None:
    found = index.resolve("CHAUX (LA)")  # not Chaux-la-Lotière, which only begins like it
    assert found.place is None
    assert [entry.label for entry in found.choices] == ["La Chaux (25)", "La Chaux (61)"]
    assert found.exact


def test_a_pair_that_does_not_go_together_says_which_part_did_not_match(
    index: PlaceIndex,
) -> None:
    wrong_name = index.resolve("Trucmuche 45000")
    assert wrong_name.place is not None
    assert wrong_name.place.code == "45234"
    assert wrong_name.note == "« Trucmuche » n'est pas une commune du code postal 45000."
    wrong_code = index.resolve("Cayrols 45999")  # no such postcode: the name
    assert wrong_code.place is not None
    assert wrong_code.place.code == "15100"
    assert wrong_code.note == "Le code postal 45999 n'est pas celui de « Cayrols »."
    homonym = index.resolve("Boisset 15999")  # an unknown postcode's département decides
    assert homonym.place is not None
    assert homonym.place.code == "15021"
    neither = index.resolve("Trucmuche 45999")
    assert neither.place is None
    assert neither.choices == []
    assert "Ni « Trucmuche » ni le code postal 45999" in neither.note


def test_a_postcode_beside_a_name_keeps_its_places_in_the_suggestions(index: PlaceIndex) -> None:
    assert [e.label for e in index.suggest("Boisset 34220")] == ["Boisset (34)"]

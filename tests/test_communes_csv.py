"""The committed gazetteer data/communes.csv: its shape and a few facts anyone can check."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "data" / "communes.csv"
HEADER = "insee,name,kind,department,postcodes,lat,lon,population,parent_insee"
KINDS = ["commune", "arrondissement", "deleguee", "associee", "ancienne"]
METROPOLE = (41.0, 51.5, -5.8, 10.0)  # lat min, lat max, lon min, lon max; Corsica included
OVERSEAS = {
    "971": (15.8, 16.55, -61.85, -61.0),  # Guadeloupe, Marie-Galante, Les Saintes, La Désirade
    "972": (14.35, 14.9, -61.25, -60.8),  # Martinique
    "973": (2.1, 5.8, -54.6, -51.6),  # Guyane
    "974": (-21.4, -20.85, 55.2, 55.85),  # La Réunion
    "975": (46.7, 47.2, -56.5, -56.1),  # Saint-Pierre-et-Miquelon
    "976": (-13.0, -12.6, 44.95, 45.35),  # Mayotte
    "977": (17.85, 17.98, -62.95, -62.78),  # Saint-Barthélemy
    "978": (18.0, 18.15, -63.2, -62.95),  # Saint-Martin
    "986": (-14.4, -13.1, -178.3, -176.1),  # Wallis-et-Futuna
    "987": (-28.0, -7.8, -154.8, -134.4),  # Polynésie française
    "988": (-23.0, -19.5, 163.5, 168.2),  # Nouvelle-Calédonie
}
DEPARTMENTS = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"} | set(OVERSEAS)

Row = dict[str, str]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    """Every data row of the committed file."""
    with PATH.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_file_is_plain_utf8_with_the_exact_header() -> None:
    """No BOM, no CR, the header as documented."""
    data = PATH.read_bytes()
    assert data.decode("utf-8").split("\n", 1)[0] == HEADER
    assert b"\r" not in data
    assert data.endswith(b"\n")


def test_codes_kinds_and_departments(rows: list[Row]) -> None:
    """INSEE codes are well formed, kinds known, départements allowed and matching the code."""
    for row in rows:
        assert re.fullmatch(r"\d{5}|2[AB]\d{3}", row["insee"]), row
        assert row["kind"] in KINDS, row
        assert row["department"] in DEPARTMENTS, row
        if row["kind"] in ("commune", "arrondissement"):
            assert row["insee"].startswith(row["department"]), row
        assert row["name"] == row["name"].strip() != "", row


def test_postcodes_and_population(rows: list[Row]) -> None:
    """Postcodes are sorted 5-digit codes split by one space; population is empty or a count."""
    for row in rows:
        assert re.fullmatch(r"\d{5}( \d{5})*", row["postcodes"]), row
        assert row["postcodes"].split() == sorted(set(row["postcodes"].split())), row
        assert re.fullmatch(r"|\d+", row["population"]), row


def test_points_lie_in_their_territory(rows: list[Row]) -> None:
    """Each point has 5 decimals and falls in a rough box of its département's territory."""
    for row in (row for row in rows if row["lat"] or row["lon"]):
        assert re.fullmatch(r"-?\d+\.\d{5}", row["lat"]), row
        assert re.fullmatch(r"-?\d+\.\d{5}", row["lon"]), row
        lat_min, lat_max, lon_min, lon_max = OVERSEAS.get(row["department"], METROPOLE)
        assert lat_min <= float(row["lat"]) <= lat_max, row
        assert lon_min <= float(row["lon"]) <= lon_max, row


def test_parents_are_written_communes(rows: list[Row]) -> None:
    """parent_insee is empty exactly for communes, else a commune row's code; same département."""
    communes = {row["insee"]: row for row in rows if row["kind"] == "commune"}
    for row in rows:
        if row["kind"] == "commune":
            assert row["parent_insee"] == "", row
        else:
            assert row["parent_insee"] in communes, row
            # a few associated communes moved to their parent's département, keeping their code
            assert row["department"] == communes[row["parent_insee"]]["department"], row


def test_rows_are_unique_and_sorted(rows: list[Row]) -> None:
    """(insee, kind, name) is a key, and rows come in (insee, kind order, name) order."""
    keys = [(row["insee"], KINDS.index(row["kind"]), row["name"]) for row in rows]
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("insee", "kind", "name", "department", "postcodes", "parent"),
    [
        # Orléans has two postcodes; both must be there
        ("45234", "commune", "Orléans", "45", {"45000", "45100"}, ""),
        # a neighbour of Orléans, with its hyphens
        ("45284", "commune", "Saint-Jean-de-Braye", "45", {"45800"}, ""),
        # the article is part of the official name
        ("01001", "commune", "L'Abergement-Clémenciat", "01", {"01400"}, ""),
        # Corsica keeps its letters in the code and the département
        ("2A004", "commune", "Ajaccio", "2A", {"20000"}, ""),
        # an overseas département of three digits
        ("97411", "commune", "Saint-Denis", "974", {"97400"}, ""),
        # Annecy's delegated communes keep their own codes and names
        ("74011", "deleguee", "Annecy-le-Vieux", "74", {"74940"}, "74010"),
        ("74268", "deleguee", "Seynod", "74", {"74600"}, "74010"),
        # a chef-lieu delegated commune shares its code with the commune nouvelle
        ("50129", "deleguee", "Cherbourg-Octeville", "50", {"50100"}, "50129"),
        # an associated commune
        ("01120", "associee", "Cordieux", "01", {"01120"}, "01262"),
        # arrondissements of the three PLM cities
        ("75105", "arrondissement", "Paris 5e Arrondissement", "75", {"75005"}, "75056"),
        ("13201", "arrondissement", "Marseille 1er Arrondissement", "13", {"13001"}, "13055"),
    ],
)
def test_known_places(
    rows: list[Row],
    insee: str,
    kind: str,
    name: str,
    department: str,
    postcodes: set[str],
    parent: str,
) -> None:
    """A place anyone can check is there, with its département, postcodes and parent."""
    found = [row for row in rows if (row["insee"], row["kind"], row["name"]) == (insee, kind, name)]
    assert len(found) == 1
    assert found[0]["department"] == department
    assert postcodes <= set(found[0]["postcodes"].split())
    assert found[0]["parent_insee"] == parent


def test_counts_and_homonyms(rows: list[Row]) -> None:
    """Over 34,000 communes, the PLM arrondissements, and Saint-Denis in several départements."""
    kinds = Counter(row["kind"] for row in rows)
    assert kinds["commune"] >= 34_000
    assert kinds["deleguee"] >= 1_500
    for city, first, count in [("75056", 75101, 20), ("69123", 69381, 9), ("13055", 13201, 16)]:
        codes = {row["insee"] for row in rows if row["parent_insee"] == city}
        assert codes == {str(first + i) for i in range(count)}, city
    saint_denis = {
        r["department"] for r in rows if r["name"] == "Saint-Denis" and r["kind"] == "commune"
    }
    assert {"93", "974"} <= saint_denis
    assert len(saint_denis) >= 3


def test_only_current_communes_the_packages_cannot_place_lack_a_point(rows: list[Row]) -> None:
    """Neither package places the communes of the Pacific collectivities: they are kept
    (the search finds their units by commune and territory), and they are nearly all."""
    pointless = [row for row in rows if not row["lat"]]
    assert all(row["kind"] == "commune" and not row["lon"] for row in pointless)
    assert len(pointless) < 100
    overseas = [row for row in pointless if row["department"] in {"986", "987", "988"}]
    assert len(overseas) >= len(pointless) - 10

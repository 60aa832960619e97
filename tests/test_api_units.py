"""`/api/v1/units`: search by text, postcode, département, distance; one unit; OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from booking.models import Unit


@pytest.fixture
def three_units(create_unit: Callable[..., Unit]) -> None:
    """Ornex (Ain), Saint-Étienne (Loire) and Saint-Denis (Réunion)."""
    create_unit(
        public_id="1008620",
        name="Gendarmerie - Brigade d'Ornex",
        commune="Ornex",
        postcode="01210",
        department="01",
        latitude=46.27591,
        longitude=6.09523,
    )
    create_unit(
        public_id="42218-01",
        name="Gendarmerie - Brigade de Saint-Étienne",
        commune="Saint-Étienne",
        postcode="42000",
        department="42",
        latitude=45.4397,
        longitude=4.3872,
        insee="42218",
    )
    create_unit(
        public_id="97411-01",
        name="Gendarmerie - Brigade de Saint-Denis",
        commune="Saint-Denis",
        postcode="97400",
        department="974",
        latitude=-20.8789,
        longitude=55.4481,
        phone="+262 262 90 00 00",
        hours={0: [(450, 720)], 7: [(480, 720)]},
    )


def ids(body: dict[str, Any]) -> list[str]:
    """Identifiers of a result page, in order."""
    return [item["id"] for item in body["items"]]


@pytest.mark.usefixtures("three_units")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=ornex", ["1008620"]),  # lower case
        ("q=SAINT ETIENNE", ["42218-01"]),  # upper case, no accent, no hyphen
        ("q=saint-étienne", ["42218-01"]),  # as written
        ("q=saint", ["97411-01", "42218-01"]),  # several, ordered by commune
        ("q=brigade saint denis", ["97411-01"]),  # every word must match
        ("q=lyon", []),  # nothing
        ("q=100%25", []),  # a LIKE wildcard is a literal
        ("postcode=01210", ["1008620"]),  # full postcode
        ("postcode=974", ["97411-01"]),  # postcode prefix
        ("department=974", ["97411-01"]),  # overseas département
        ("department=42&q=saint", ["42218-01"]),  # filters combine
    ],
)
def test_search(client: FlaskClient, query: str, expected: list[str]) -> None:
    response = client.get(f"/api/v1/units?{query}")
    assert response.status_code == 200
    assert ids(response.json) == expected
    assert response.json["total"] == len(expected)


@pytest.mark.usefixtures("three_units")
def test_near_sorts_by_distance(client: FlaskClient) -> None:
    body = client.get("/api/v1/units?near=45.764,4.8357").json  # Lyon
    assert ids(body) == ["42218-01", "1008620", "97411-01"]
    distances = [item["distance_km"] for item in body["items"]]
    assert distances == sorted(distances)
    assert 45 < distances[0] < 55  # Lyon – Saint-Étienne is about 50 km
    assert 8900 < distances[2] < 9100  # Réunion, about 9,000 km


@pytest.mark.usefixtures("three_units")
def test_limit_and_offset_page_through_results(client: FlaskClient) -> None:
    first = client.get("/api/v1/units?limit=2").json
    second = client.get("/api/v1/units?limit=2&offset=2").json
    assert first["total"] == second["total"] == 3
    assert len(ids(first)) == 2
    assert len(ids(second)) == 1
    assert not set(ids(first)) & set(ids(second))


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "supérieur ou égal à 1"),
        ("limit=abc", "limit", "nombre entier attendu"),
        ("limit=1000", "limit", "inférieur ou égal à 100"),
        ("offset=-1", "offset", "supérieur ou égal à 0"),
        ("near=abc", "near", "latitude,longitude"),
        ("near=95,2", "near", "latitude entre -90 et 90"),
        ("postcode=ABCDE", "postcode", "format invalide"),
    ],
)
def test_bad_parameters_get_a_french_422(
    client: FlaskClient, query: str, field: str, message: str
) -> None:
    response = client.get(f"/api/v1/units?{query}")
    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert message in response.json["fields"][field]


@pytest.mark.usefixtures("three_units")
def test_one_unit_as_the_spec_shows_it(client: FlaskClient) -> None:
    body = client.get("/api/v1/units/97411-01").json
    assert body == {
        "id": "97411-01",
        "name": "Gendarmerie - Brigade de Saint-Denis",
        "address": "124 Rue de Béjoud 01210 ORNEX",
        "postcode": "97400",
        "commune": "Saint-Denis",
        "department": "974",
        "insee": "01281",
        "lat": -20.8789,
        "lon": 55.4481,
        "approximate_location": False,
        "phone": "+262 262 90 00 00",
        "email": "bta.ornex@gendarmerie.interieur.gouv.fr",
        "url": "",
        "timezone": "Indian/Reunion",
        "desks": 1,
        "opening_hours": "Mo 07:30-12:00; PH 08:00-12:00",
        "hours": {
            "lundi": [["07:30", "12:00"]],
            "mardi": [],
            "mercredi": [],
            "jeudi": [],
            "vendredi": [],
            "samedi": [],
            "dimanche": [],
            "jours_feries": [["08:00", "12:00"]],
        },
    }


def test_unknown_or_inactive_unit_is_a_json_404(
    client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="closed", active=False)
    for path in ("/api/v1/units/nope", "/api/v1/units/closed"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json["error"] == "unit_not_found"
        assert "Aucune unité" in response.json["message"]
    assert client.get("/api/v1/units").json["total"] == 0


def test_unknown_api_path_answers_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    response = client.delete("/api/v1/units")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_openapi_document_describes_every_api_route(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) >= {"/api/v1/units", "/api/v1/units/{public_id}"}
    search = paths["/api/v1/units"]["get"]
    assert {parameter["name"] for parameter in search["parameters"]} == {
        "q",
        "postcode",
        "department",
        "near",
        "limit",
        "offset",
        "motif",
        "mode",
    }
    page = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/UnitPage"}
    unit = document["components"]["schemas"]["UnitOut"]
    assert set(unit["required"]) >= {"id", "name", "timezone", "hours", "opening_hours"}

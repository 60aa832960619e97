"""Open data: the official layout, its schema, GeoJSON, conditional GET, and the round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import opening_hours
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from booking.domain.units_csv import STRUCTURED_COLUMNS
from booking.extensions import db
from booking.models import Unit
from tests.support.units_files import schema_errors

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT / "data" / "units.csv"


@pytest.fixture
def some_units(create_unit: Callable[..., Unit]) -> None:
    """A metropolitan unit, a 24 h overseas one, a closed one and an inactive one."""
    create_unit(public_id="A1", hours={0: [(480, 720), (840, 1080)], 7: [(540, 720)]})
    create_unit(
        public_id="B2",
        department="988",
        timezone="Pacific/Noumea",
        hours={day: [(0, 1440)] for day in range(8)},
        latitude=-22.27,
        longitude=166.44,
    )
    create_unit(public_id="C3", hours={}, latitude=None, longitude=None)
    create_unit(public_id="Z9", active=False)


@pytest.mark.usefixtures("some_units")
def test_csv_has_the_official_header_and_only_active_units(client: FlaskClient) -> None:
    response = client.get("/opendata/units.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.data.decode("utf-8").split("\r\n")
    assert lines[0] == ";".join(STRUCTURED_COLUMNS)
    assert [line.split(";")[0] for line in lines[1:-1]] == ["A1", "B2", "C3"]
    assert ";08h00;12h00;14h00;18h00;" in lines[1]
    assert lines[2].endswith(";00h00;24h00;;;;")


@pytest.mark.usefixtures("some_units")
@pytest.mark.parametrize("path", ["/opendata/units.csv", "/opendata/units.geojson"])
def test_conditional_get_answers_304_until_a_unit_changes(
    app: Flask, client: FlaskClient, path: str
) -> None:
    first = client.get(path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.public_id == "A1"))
        unit.phone = "+33 4 50 00 00 00"
        unit.updated_at = datetime.now(UTC) + timedelta(seconds=2)
        db.session.commit()
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    assert b"+33 4 50 00 00 00" in again.data


@pytest.mark.usefixtures("some_units")
def test_csv_validates_against_its_table_schema(client: FlaskClient, tmp_path: Path) -> None:
    assert schema_errors(client, tmp_path, client.get("/opendata/units.csv").data) == []


def test_schema_catches_a_wrong_time(client: FlaskClient, tmp_path: Path) -> None:
    """The schema is not a rubber stamp: a time outside HHhMM fails it."""
    row = ["X", "Brigade", "", "", "01", "01281", "", "01210", "Ornex", "6.1", "46.2", ""]
    data = ";".join(STRUCTURED_COLUMNS) + "\n" + ";".join(row + ["8:00"] + [""] * 47) + "\n"
    errors = schema_errors(client, tmp_path, data.encode())
    assert errors == [[2, "lundi_plage1_debut", "constraint-error"]]


@pytest.mark.usefixtures("some_units")
def test_geojson_features_carry_valid_osm_opening_hours(client: FlaskClient) -> None:
    response = client.get("/opendata/units.geojson")
    assert response.mimetype == "application/geo+json"
    collection = json.loads(response.data)
    assert collection["type"] == "FeatureCollection"
    features = {feature["id"]: feature for feature in collection["features"]}
    assert set(features) == {"A1", "B2", "C3"}
    assert features["B2"]["geometry"] == {"type": "Point", "coordinates": [166.44, -22.27]}
    assert features["C3"]["geometry"] is None
    properties = features["A1"]["properties"]
    assert properties["opening_hours"] == "Mo 08:00-12:00,14:00-18:00; PH 09:00-12:00"
    assert properties["timezone"] == "Europe/Paris"
    assert features["B2"]["properties"]["timezone"] == "Pacific/Noumea"
    assert properties["last_modified"] == datetime.now(UTC).date().isoformat()
    for feature in features.values():
        opening_hours.OpeningHours(feature["properties"]["opening_hours"])  # raises if invalid


def test_whole_default_dataset_round_trips_byte_for_byte(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    """Default file → export A → empty database → import A → export B: A == B."""
    result = runner.invoke(args=["units", "import", str(DEFAULT_DATASET)])
    assert "3111 unités valides" in result.output
    first = tmp_path / "first.csv"
    assert runner.invoke(args=["units", "export", str(first)]).exit_code == 0
    with app.app_context():
        db.drop_all()
        db.create_all()
    assert runner.invoke(args=["units", "import", str(first)]).exit_code == 0
    second = runner.invoke(args=["units", "export", "-"])
    exported = first.read_bytes()
    assert exported.count(b"\r\n") == 3112
    assert second.stdout_bytes == exported
    assert schema_errors(client, tmp_path, exported) == []


def test_every_default_unit_has_valid_osm_opening_hours(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    runner.invoke(args=["units", "import", str(DEFAULT_DATASET)])
    features = json.loads(client.get("/opendata/units.geojson").data)["features"]
    assert len(features) == 3111
    values = {feature["properties"]["opening_hours"] for feature in features}
    for value in values:
        assert opening_hours.validate(value), value


def test_opendata_page_describes_licence_sources_and_illustrative_hours(
    client: FlaskClient, some_units: None
) -> None:
    page = client.get("/opendata/").get_data(as_text=True)
    assert "Licence Ouverte 2.0" in page
    assert "3 unités actives" in page
    assert "illustratifs" in page
    for resource in ("units.csv", "units.schema.json", "units.geojson"):
        assert f"/opendata/{resource}" in page

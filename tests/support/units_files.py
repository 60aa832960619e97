"""Units files for the import and open-data tests: made to measure, imported, checked."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from frictionless import Dialect, Resource, Schema, formats, validate
from sqlalchemy import select

from booking.domain.units_csv import BASE_COLUMNS, FREE_TEXT_COLUMN, STRUCTURED_COLUMNS
from booking.extensions import db
from booking.models import Unit
from booking.services.units.reading import weekly_hours

DATA = Path(__file__).resolve().parents[1] / "data"


def structured(*rows: dict[str, str]) -> bytes:
    """A structured-layout file whose rows set only the given columns."""
    lines = [";".join(STRUCTURED_COLUMNS)]
    for row in rows:
        values = {
            "service": f"Gendarmerie - Brigade de {row['identifiant_public_unite']}",
            "departement": "01",
            "code_postal": "01210",
            "commune": "Ornex",
            "lundi_plage1_debut": "08h00",
            "lundi_plage1_fin": "12h00",
            **row,
        }
        lines.append(";".join(values.get(name, "") for name in STRUCTURED_COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def run_import(runner: FlaskCliRunner, tmp_path: Path, data: bytes, *options: str) -> Result:
    """Run the import command on these bytes."""
    path = tmp_path / "units.csv"
    path.write_bytes(data)
    return runner.invoke(args=["units", "import", str(path), *options])


def units(app: Flask) -> dict[str, Unit]:
    """Every unit in the database, by identifier."""
    with app.app_context():
        found = db.session.scalars(select(Unit)).all()
        for unit in found:
            weekly_hours(unit)  # load the hours before the session closes
        return {unit.public_id: unit for unit in found}


def free_text(*rows: dict[str, str]) -> bytes:
    """A free-text layout file whose rows set only the given columns."""
    columns = (*BASE_COLUMNS, FREE_TEXT_COLUMN)
    lines = [";".join(columns)]
    for row in rows:
        values = {
            "service": f"Brigade de {row['identifiant_public_unite']}",
            "departement": "01",
            "code_postal": "01210",
            "commune": "Ornex",
            FREE_TEXT_COLUMN: "Lundi : 08h00-12h00",
            **row,
        }
        lines.append(";".join(values.get(name, "") for name in columns))
    return ("\n".join(lines) + "\n").encode()


def schema_errors(client: FlaskClient, folder: Path, data: bytes) -> list[list[object]]:
    """Validate CSV bytes against the served Table Schema with frictionless; its errors."""
    (folder / "units.csv").write_bytes(data)
    report = validate(
        Resource(
            path="units.csv",
            basepath=str(folder),
            schema=Schema.from_descriptor(client.get("/opendata/units.schema.json").json),
            dialect=Dialect(controls=[formats.CsvControl(delimiter=";")]),
        )
    )
    assert report.stats["tasks"] == 1
    return report.flatten(["rowNumber", "fieldName", "type"])

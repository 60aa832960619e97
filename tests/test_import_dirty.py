"""Dirty files as real exports come: one bad value is a row problem, never a stopped import
or a broken export; hours taken from under booked visits are listed, then cancelled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Column, String, insert, select

from booking.domain.units_csv import FIELD_LENGTHS, FREE_TEXT_COLUMN
from booking.extensions import db
from booking.models import Booking, OpeningRange, OutboxMessage, Unit
from tests.support.units_files import DATA, free_text, run_import, schema_errors, structured, units

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


FOUR_RANGES = "Lundi : 08h00-09h00 10h00-11h00 12h00-13h00 14h00-15h00"

# (name, file): each is imported, then the open data must answer and validate.
DIRTY_FILES = {
    "four ranges a day": free_text(
        {"identifiant_public_unite": "1", FREE_TEXT_COLUMN: FOUR_RANGES},
        {"identifiant_public_unite": "2"},
    ),
    "long name": structured(
        {"identifiant_public_unite": "1", "service": "B" * 277}, {"identifiant_public_unite": "2"}
    ),
    "long insee": structured({"identifiant_public_unite": "1", "code_commune_insee": "012345"}),
    "long phone": structured({"identifiant_public_unite": "1", "telephone": "9" * 45}),
    "nul byte": structured({"identifiant_public_unite": "1", "service": "Brigade\x00 de Gex"}),
    "control characters": structured({"identifiant_public_unite": "1", "voie": "1 rue\x1b\x07"}),
    "insee without its zero": structured(
        {"identifiant_public_unite": "1", "code_commune_insee": "1034"}
    ),
    "insee of letters": structured(
        {"identifiant_public_unite": "1", "code_commune_insee": "ABCDE"}
    ),
    "département 20": structured(
        {"identifiant_public_unite": "1", "departement": "20", "code_commune_insee": "2A004"},
        {"identifiant_public_unite": "2", "departement": "20"},
        {"identifiant_public_unite": "3"},
    ),
    "stray quote after the url": structured(
        {"identifiant_public_unite": "1", "url": 'https://example.org/unite"'}
    ),
    "not a url": structured({"identifiant_public_unite": "1", "url": "javascript:alert(1)"}),
    "long address": structured(
        {"identifiant_public_unite": "1", "adresse_geographique": "x" * 301}
    ),
    "long identifier": structured(
        {"identifiant_public_unite": "9" * 41}, {"identifiant_public_unite": "2"}
    ),
    "the test suite's dirty file": (DATA / "dirty-structured.csv").read_bytes(),
    "the free-text sample": (DATA / "sample-horaires-accueil-layout.csv").read_bytes(),
}


@pytest.mark.parametrize("name", list(DIRTY_FILES))
def test_whatever_is_imported_the_open_data_answers_and_validates(
    runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path, name: str
) -> None:
    result = run_import(runner, tmp_path, DIRTY_FILES[name])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    exported = client.get("/opendata/units.csv")
    assert exported.status_code == 200
    assert schema_errors(client, tmp_path, exported.data) == []
    assert client.get("/opendata/units.geojson").status_code == 200
    assert runner.invoke(args=["units", "export", str(tmp_path / "out.csv")]).exit_code == 0


def test_four_ranges_a_day_are_kept_and_told_as_a_notice(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """SPEC §2 allows any number of ranges a day: the unit loads with all four (it does not
    vanish), the import says so on its line, and the export joins the two closest."""
    result = run_import(runner, tmp_path, DIRTY_FILES["four ranges a day"])
    assert result.exit_code == 0, result.output
    assert (
        "ligne 2, colonne horaires_accueil : Lundi : 4 plages gardées (le format publié en a 3"
        " colonnes : l'export joint les deux plus proches) (ligne chargée)"
    ) in result.output
    assert set(units(app)) == {"1", "2"}
    body = client.get("/api/v1/units/1").json
    assert len(body["hours"]["lundi"]) == 4
    exported = client.get("/opendata/units.csv")
    assert schema_errors(client, tmp_path, exported.data) == []


def test_hours_written_behind_the_apps_back_are_still_published(
    app: Flask, client: FlaskClient, create_unit: Callable[..., Unit], tmp_path: Path
) -> None:
    """Four ranges in the database (not through the import): the CSV bridges the shortest
    gap rather than failing, and still validates."""
    unit = create_unit(public_id="QUATRE", hours={})
    with app.app_context():
        db.session.execute(
            insert(OpeningRange),
            [
                {"unit_id": unit.id, "weekday": 0, "start_minute": s, "end_minute": e}
                for s, e in [(480, 540), (600, 660), (690, 720), (840, 900)]
            ],
        )
        db.session.commit()
    exported = client.get("/opendata/units.csv")
    assert exported.status_code == 200
    assert b";08h00;09h00;10h00;12h00;14h00;15h00;" in exported.data
    assert schema_errors(client, tmp_path, exported.data) == []


def test_one_bad_value_is_a_row_problem_and_the_rest_loads(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = structured(
        {"identifiant_public_unite": "1", "service": "B" * 277},
        {"identifiant_public_unite": "2", "code_commune_insee": "012345"},
        {"identifiant_public_unite": "3", "telephone": "0" + "4" * 44},
        {"identifiant_public_unite": "4", "service": "Brigade\x00 de Gex"},
        {"identifiant_public_unite": "5"},
    )
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    output = result.output
    assert (
        "ligne 2, colonne service : valeur de 277 caractères, 200 au plus (ligne ignorée)" in output
    )
    assert "ligne 3, colonne code_commune_insee : valeur de 6 caractères, 5 au plus" in output
    assert "ligne 4, colonne telephone : valeur de 45 caractères, 40 au plus : ignorée" in output
    assert "ligne 5, colonne service : caractères de contrôle retirés (ligne chargée)" in output
    stored = units(app)
    assert set(stored) == {"2", "3", "4", "5"}
    assert stored["2"].insee == ""
    assert stored["3"].phone == ""
    assert stored["4"].name == "Brigade de Gex"


def test_every_value_fits_its_column() -> None:
    """The reader's limits are the database's: a change to one must go to the other."""
    columns = {
        "identifiant_public_unite": "public_id",
        "service": "name",
        "adresse_geographique": "address",
        "telephone": "phone",
        "departement": "department",
        "code_commune_insee": "insee",
        "voie": "street",
        "code_postal": "postcode",
        "commune": "commune",
        "url": "url",
        "courriel": "email",
    }
    for name, attribute in columns.items():
        column = Unit.__table__.c[attribute]
        assert isinstance(column, Column)
        assert isinstance(column.type, String)
        assert column.type.length == FIELD_LENGTHS[name], name


def test_codes_are_checked_and_mended_where_it_is_safe(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = structured(
        {"identifiant_public_unite": "1", "code_commune_insee": "1034"},
        {"identifiant_public_unite": "2", "code_commune_insee": "ABCDE"},
        {"identifiant_public_unite": "3", "departement": "20", "code_commune_insee": "2B033"},
        {"identifiant_public_unite": "4", "departement": "20"},
        {"identifiant_public_unite": "5", "url": ' "https://example.org/unite" '},
        {"identifiant_public_unite": "6", "url": "www example org"},
    )
    result = run_import(runner, tmp_path, data)
    output = result.output
    assert "ligne 2, colonne code_commune_insee : code « 1034 » complété en 01034" in output
    assert "ligne 3, colonne code_commune_insee : code INSEE invalide « ABCDE », ignoré" in output
    assert "ligne 4, colonne departement : « 20 » lu 2B (code INSEE)" in output
    assert "ligne 5, colonne departement : département inconnu « 20 » (ligne ignorée)" in output
    assert "ligne 6, colonne url : guillemets ou espaces retirés (ligne chargée)" in output
    assert "ligne 7, colonne url : adresse web invalide, ignorée (ligne chargée)" in output
    stored = units(app)
    assert stored["1"].insee == "01034"
    assert stored["2"].insee == ""
    assert (stored["3"].department, stored["3"].timezone) == ("2B", "Europe/Paris")
    assert "4" not in stored
    assert stored["5"].url == "https://example.org/unite"
    assert stored["6"].url == ""


def test_smaller_faults_of_real_files(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    upper = structured({"identifiant_public_unite": "1"}).replace(
        b"identifiant_public_unite;service", b"IDENTIFIANT_PUBLIC_UNITE;Service", 1
    )
    assert run_import(runner, tmp_path, upper).exit_code == 0  # header names in any case
    spaced = free_text({"identifiant_public_unite": "2", FREE_TEXT_COLUMN: "Lundi: 08h00 - 12h00"})
    result = run_import(runner, tmp_path, spaced, "--force")
    assert result.exit_code == 0, result.output
    assert units(app)["2"].opening_ranges[0].end_minute == 720
    overlap = structured(
        {
            "identifiant_public_unite": "3",
            "lundi_plage2_debut": "11h00",
            "lundi_plage2_fin": "13h00",
        },
        {"identifiant_public_unite": "4"},
    )
    result = run_import(runner, tmp_path, overlap, "--force")
    assert "ligne 2, colonne lundi_plage2_debut : plages qui se chevauchent" in result.output
    windows = "identifiant_public_unite;service\n1;Gendarmerie de Sète\n".encode("cp1252")
    result = run_import(runner, tmp_path, b"a;b\n" + windows)
    assert result.exit_code == 1
    assert "ligne 3" in result.output


def test_a_quoted_value_over_two_lines_is_one_row(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = structured(
        {"identifiant_public_unite": "1", "adresse_geographique": '"1 rue de la Gare\n01210 Ornex"'}
    )
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "ligne 2 : valeur entre guillemets sur deux lignes, réunie (ligne chargée)" in (
        result.output
    )
    assert "ligne ignorée" not in result.output
    assert units(app)["1"].address == "1 rue de la Gare 01210 Ornex"


def test_a_row_rejected_after_a_quoted_semicolon_keeps_its_unit(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    first = structured(*({"identifiant_public_unite": str(n)} for n in range(1, 11)))
    assert run_import(runner, tmp_path, first).exit_code == 0
    columns = first.decode().split("\n")[0].split(";")
    columns.remove("identifiant_public_unite")
    columns.append("identifiant_public_unite")  # the identifier last, after a quoted `;`
    rows = [";".join(columns)]
    for n in range(1, 11):
        values = {name: "" for name in columns}
        values.update(
            {
                "service": '"Brigade; de Gex"',
                "departement": "01" if n != 7 else "99",
                "identifiant_public_unite": str(n),
            }
        )
        rows.append(";".join(values[name] for name in columns))
    result = run_import(runner, tmp_path, ("\n".join(rows) + "\n").encode())
    assert "colonne departement : département inconnu « 99 » (ligne ignorée)" in result.output
    assert units(app)["7"].active
    assert "désactivées : 0" in result.output


def test_a_refused_partial_import_does_not_claim_to_have_deactivated(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    everything = structured(*({"identifiant_public_unite": str(n)} for n in range(1, 21)))
    assert run_import(runner, tmp_path, everything).exit_code == 0
    result = run_import(runner, tmp_path, structured({"identifiant_public_unite": "1"}))
    assert result.exit_code != 0
    assert "Rien n'a été enregistré ; Unités seraient créées : 0" in result.output
    assert "seraient désactivées : 19" in result.output
    assert ", désactivées : 19" not in result.output
    assert all(unit.active for unit in units(app).values())


def test_hours_taken_from_under_booked_visits_are_listed_then_cancelled_with_force(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    create_booking: Callable[..., Booking],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(MONDAY_7AM)
    day = {"lundi_plage1_debut": "", "lundi_plage1_fin": ""}
    tuesday = {"mardi_plage1_debut": "08h00", "mardi_plage1_fin": "12h00"}
    first = structured(
        *({"identifiant_public_unite": str(n), **day, **tuesday} for n in range(1, 11))
    )
    assert run_import(runner, tmp_path, first).exit_code == 0
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.public_id == "1"))
        assert unit is not None
    booking = create_booking(unit, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # 10:00 Paris
    afternoon = {"mardi_plage1_debut": "14h00", "mardi_plage1_fin": "18h00"}
    second = structured(
        {"identifiant_public_unite": "1", **day, **afternoon},
        *({"identifiant_public_unite": str(n), **day, **tuesday} for n in range(2, 11)),
    )
    refused = run_import(runner, tmp_path, second)
    assert refused.exit_code != 0
    assert "Rendez-vous à venir que ce fichier exclut (1), à annuler" in refused.output
    assert (
        f"ligne 2, unité 1 : rendez-vous {booking.reference} du mardi 24 novembre 2026 à"
        " 10 h 00 (hors des horaires du fichier)"
    ) in refused.output
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
        assert (
            db.session.scalar(
                select(OpeningRange.start_minute).where(OpeningRange.unit_id == unit.id)
            )
            == 480
        )
    forced = run_import(runner, tmp_path, second, "--force")
    assert forced.exit_code == 0, forced.output
    assert "Rendez-vous annulés : 1" in forced.output
    with app.app_context():
        stored = db.session.scalar(select(Booking))
        assert stored is not None
        assert stored.status == "cancelled_by_unit"
        assert "horaires d'accueil de l'unité ont changé" in (stored.cancel_reason or "")
        assert db.session.scalar(select(OutboxMessage.kind)) == "cancellation"


def test_a_unit_left_out_of_the_file_with_booked_visits_is_listed_first(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    create_booking: Callable[..., Booking],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(MONDAY_7AM)
    every = [{"identifiant_public_unite": str(n)} for n in range(1, 21)]
    assert run_import(runner, tmp_path, structured(*every)).exit_code == 0
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.public_id == "20"))
        assert unit is not None
    create_booking(unit, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    refused = run_import(runner, tmp_path, structured(*every[:19]))
    assert refused.exit_code != 0
    assert "(unité absente du fichier)" in refused.output
    assert units(app)["20"].active
    forced = run_import(runner, tmp_path, structured(*every[:19]), "--force")
    assert "Rendez-vous annulés : 1" in forced.output
    assert not units(app)["20"].active


def test_open_data_headers_and_dates(client: FlaskClient, create_unit: Callable[..., Unit]) -> None:
    create_unit(public_id="A1")
    response = client.get("/opendata/units.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    page = client.get("/opendata/").get_data(as_text=True)
    assert "(heure de Paris)" in page
    assert "(UTC)" not in page

"""`flask units import`: upsert, reports, refusals that change nothing, local edits kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from booking.domain.units_csv import STRUCTURED_COLUMNS
from booking.extensions import db
from booking.models import OpeningRange, Unit
from booking.services.units.reading import weekly_hours
from tests.support.units_files import DATA, run_import, structured, units


def test_dirty_file_loads_good_rows_and_reports_each_bad_one(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["units", "import", str(DATA / "dirty-structured.csv")])
    assert result.exit_code == 0, result.output
    assert "16 lignes lues, 9 unités valides, 7 lignes ignorées" in result.output
    assert "Unités créées : 9" in result.output
    assert "ligne 15, colonne lundi_plage1_fin : heure impossible « 25h00 » (ligne ignorée)" in (
        result.output
    )
    assert "ligne 13, colonne telephone : numéro invalide « 04 50 », gardé tel quel" in (
        result.output
    )
    stored = units(app)
    assert set(stored) == {"1001", "1002", "1003", "1004", "1005", "1006", "1009", "1010", "1013"}
    assert stored["1001"].phone == "+33 4 50 40 59 30"
    assert stored["1001"].timezone == "Europe/Paris"


def test_strict_turns_any_row_problem_into_a_failure_that_changes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["units", "import", "--strict", str(DATA / "dirty-structured.csv")])
    assert result.exit_code == 1
    assert "--strict" in result.output
    assert units(app) == {}


def test_missing_required_column_exits_non_zero_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="keep")
    header = ";".join(name for name in STRUCTURED_COLUMNS if name != "commune")
    result = run_import(runner, tmp_path, (header + "\n1;A\n").encode())
    assert result.exit_code == 1
    assert "colonnes obligatoires absentes : commune" in result.output
    assert "Rien n'a été modifié" in result.output
    assert set(units(app)) == {"keep"}
    assert units(app)["keep"].active


def test_unreadable_file_is_a_clear_failure(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["units", "import", str(tmp_path / "absent.csv")])
    assert result.exit_code == 1
    assert "introuvable" in result.output


def test_real_free_text_sample_imports(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["units", "import", str(DATA / "sample-horaires-accueil-layout.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "Format : texte libre — 3 lignes lues, 3 unités valides" in result.output
    ornex = units(app)["1008620"]
    assert weekly_hours(ornex)[2] == [(840, 1080)]  # Mercredi : 14h00-18h00
    assert ornex.phone == "+33 4 50 40 59 30"


def test_reimport_updates_changed_units_only(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    first = structured({"identifiant_public_unite": "A"}, {"identifiant_public_unite": "B"})
    assert run_import(runner, tmp_path, first).exit_code == 0
    second = structured(
        {"identifiant_public_unite": "A"},
        {
            "identifiant_public_unite": "B",
            "commune": "Gex",
            "mardi_plage1_debut": "14h00",
            "mardi_plage1_fin": "18h00",
        },
    )
    result = run_import(runner, tmp_path, second)
    assert "créées : 0, modifiées : 1, inchangées : 1" in result.output
    b = units(app)["B"]
    assert b.commune == "Gex"
    assert weekly_hours(b) == {0: [(480, 720)], 1: [(840, 1080)]}


def test_absent_units_are_deactivated_not_deleted_and_come_back(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    ids = [f"U{n:02d}" for n in range(20)]
    run_import(runner, tmp_path, structured(*({"identifiant_public_unite": i} for i in ids)))
    result = run_import(
        runner, tmp_path, structured(*({"identifiant_public_unite": i} for i in ids[1:]))
    )
    assert "désactivées : 1" in result.output
    assert not units(app)["U00"].active  # 1 of 20 is within the tenth
    result = run_import(
        runner, tmp_path, structured(*({"identifiant_public_unite": i} for i in ids))
    )
    assert "réactivées : 1" in result.output
    assert units(app)["U00"].active


def test_mass_deactivation_stops_unless_forced(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    ids = [f"U{n:02d}" for n in range(20)]
    run_import(runner, tmp_path, structured(*({"identifiant_public_unite": i} for i in ids)))
    partial = structured(*({"identifiant_public_unite": i} for i in ids[:15]))
    result = run_import(runner, tmp_path, partial)
    assert result.exit_code == 1
    assert "désactiverait 5 des 20 unités actives" in result.output
    assert all(unit.active for unit in units(app).values())
    result = run_import(runner, tmp_path, partial, "--force")
    assert result.exit_code == 0
    assert sum(unit.active for unit in units(app).values()) == 15


def test_rejected_row_does_not_deactivate_its_unit(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    run_import(
        runner,
        tmp_path,
        structured({"identifiant_public_unite": "A"}, {"identifiant_public_unite": "B"}),
    )
    bad_b = structured(
        {"identifiant_public_unite": "A"},
        {"identifiant_public_unite": "B", "lundi_plage1_fin": "99h"},
    )
    result = run_import(runner, tmp_path, bad_b)
    assert "désactivées : 0" in result.output
    assert units(app)["B"].active
    assert weekly_hours(units(app)["B"]) == {0: [(480, 720)]}  # its previous hours stand


def test_local_hours_edits_are_kept_and_reported_unless_forced(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    run_import(runner, tmp_path, structured({"identifiant_public_unite": "A"}))
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.public_id == "A"))
        unit.opening_ranges = [OpeningRange(weekday=2, start_minute=600, end_minute=660)]
        unit.hours_edited_locally = True
        db.session.commit()
    changed = structured({"identifiant_public_unite": "A", "lundi_plage1_fin": "11h00"})
    result = run_import(runner, tmp_path, changed)
    assert "Conflits avec des modifications locales (1)" in result.output
    assert weekly_hours(units(app)["A"]) == {2: [(600, 660)]}
    result = run_import(runner, tmp_path, changed, "--force")
    assert weekly_hours(units(app)["A"]) == {0: [(480, 660)]}
    assert not units(app)["A"].hours_edited_locally


def test_dry_run_reports_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = run_import(
        runner, tmp_path, structured({"identifiant_public_unite": "A"}), "--dry-run"
    )
    assert result.exit_code == 0
    assert "Unités créées : 1" in result.output
    assert "rien n'a été enregistré" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Unit.id))) == 0
        assert db.session.scalar(select(func.count(OpeningRange.id))) == 0


@pytest.mark.parametrize(
    ("phone", "department", "stored", "reported"),
    [
        ("04 50 40 59 30", "01", "+33 4 50 40 59 30", None),  # metropolitan, national form
        ("0262 31 70 39", "974", "+262 262 31 70 39", None),  # Réunion, not metropolitan
        ("+262 31 70 39", "974", "+262 262 31 70 39", "corrigé"),  # lost its area digits
        ("17 ou 112 ou 05 46 56 21 13", "17", "+33 5 46 56 21 13", "corrigé"),  # text around
        ("+689 54 79 25", "987", "+689 54 79 25", "gardé tel quel"),  # old Tahiti numbering
    ],
)
def test_phones_are_normalised_repaired_or_reported(
    app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    phone: str,
    department: str,
    stored: str,
    reported: str | None,
) -> None:
    row = {"identifiant_public_unite": "A", "telephone": phone, "departement": department}
    result = run_import(runner, tmp_path, structured(row))
    assert units(app)["A"].phone == stored
    if reported:
        assert f"colonne telephone : numéro invalide « {phone} », {reported}" in result.output
    else:
        assert "telephone" not in result.output

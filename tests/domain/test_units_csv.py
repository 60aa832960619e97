"""Reading dirty dataset files: every row problem named, the rest of the file kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.domain.units_csv import STRUCTURED_COLUMNS, DatasetError, UnitRecord, write_units
from booking.domain.units_reader import ParsedDataset, read_units, unit_records

DATA = Path(__file__).resolve().parents[1] / "data"


def read(data: bytes) -> tuple[ParsedDataset, list[tuple[int, UnitRecord]]]:
    """A file checked, and its good rows read."""
    parsed = read_units(data)
    return parsed, list(unit_records(data, parsed))


@pytest.fixture(scope="module")
def dirty() -> tuple[dict[str, UnitRecord], dict[int, list[str]]]:
    """The dirty fixture read once: records by id, problems by line."""
    parsed, rows = read((DATA / "dirty-structured.csv").read_bytes())
    records = {record.public_id: record for _, record in rows}
    problems: dict[int, list[str]] = {}
    for problem in parsed.problems:
        problems.setdefault(problem.line, []).append(str(problem))
    return records, problems


def test_dirty_file_loads_its_good_rows(
    dirty: tuple[dict[str, UnitRecord], dict[int, list[str]]],
) -> None:
    records, _ = dirty
    assert sorted(records) == [
        "1001",
        "1002",
        "1003",
        "1004",
        "1005",
        "1006",
        "1009",
        "1010",
        "1013",
    ]
    assert records["1001"].name == "Gendarmerie - Brigade de Test"  # the first of two duplicates


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (5, "ligne 5, colonne identifiant_public_unite : identifiant vide ou nul (ligne ignorée)"),
        (6, "ligne 6, colonne identifiant_public_unite : identifiant vide ou nul (ligne ignorée)"),
        (7, "ligne 7, colonne geocodage_x_GPS : longitude et latitude inversées"),
        (8, "ligne 8, colonne geocodage_y_GPS : coordonnées (95.0, 200.0) hors du territoire"),
        (9, "ligne 9 : guillemet isolé retiré (ligne chargée)"),
        (10, "ligne 10 : 61 champs au lieu de 60 (ligne ignorée)"),
        (11, "ligne 11 : 57 champs au lieu de 60 (ligne ignorée)"),
        (12, "ligne 12, colonne identifiant_public_unite : identifiant 1001 déjà présent ligne 2"),
        (14, "ligne 14, colonne lundi_plage1_fin : plage incomplète"),
        (15, "ligne 15, colonne lundi_plage1_fin : heure impossible « 25h00 »"),
    ],
)
def test_each_dirty_row_is_reported_with_line_column_and_reason(
    dirty: tuple[dict[str, UnitRecord], dict[int, list[str]]], line: int, expected: str
) -> None:
    _, problems = dirty
    assert any(message.startswith(expected) for message in problems[line]), problems.get(line)


def test_clean_rows_have_no_problem(
    dirty: tuple[dict[str, UnitRecord], dict[int, list[str]]],
) -> None:
    _, problems = dirty
    # good row, odd time formats, empty hours, blank line, trailing empty field, quoted field
    for line in (2, 3, 4, 16, 17, 18):
        assert line not in problems


def test_dirty_values_are_understood(
    dirty: tuple[dict[str, UnitRecord], dict[int, list[str]]],
) -> None:
    records, _ = dirty
    assert records["1002"].hours == {0: [(480, 720)], 1: [(840, 1440)]}  # 8h0, 12:00, 24h00
    assert records["1003"].hours == {}  # empty hours: closed
    assert (records["1004"].latitude, records["1004"].longitude) == (46.27591, 6.09523)  # swapped
    assert records["1005"].latitude is None
    assert records["1005"].longitude is None
    assert records["1006"].name == "Brigade de Test"
    assert records["1013"].name == 'Gendarmerie; Brigade "Le Fort"'
    assert records["1009"].phone == "04 50"  # the importer judges phones, not the reader


def test_bom_and_crlf_do_not_leak_into_values() -> None:
    data = (DATA / "dirty-structured.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    parsed, rows = read(data)
    assert parsed.layout == "structured"
    assert all(not record.url.endswith("\r") for _, record in rows)


def test_rejected_rows_identifiers_are_remembered() -> None:
    parsed = read_units((DATA / "dirty-structured.csv").read_bytes())
    assert {"1007", "1008", "1011", "1012"} <= parsed.rejected_ids


def test_real_free_text_sample_is_read_in_any_column_order() -> None:
    parsed, rows = read((DATA / "sample-horaires-accueil-layout.csv").read_bytes())
    assert parsed.layout == "free_text"
    assert parsed.problems == []
    records = {record.public_id: record for _, record in rows}
    assert set(records) == {"1008620", "1008614", "1008593"}
    ornex = records["1008620"]
    assert ornex.hours[6] == [(540, 720), (900, 1080)]  # Dimanche : 9h00-12h00 15h00-18h00
    assert (ornex.latitude, ornex.longitude) == (46.27591, 6.09523)
    assert records["1008614"].hours == {}  # empty horaires_accueil


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),  # empty file
        (b"nom;ville\nA;B\n", "format inconnu"),  # neither layout
        (b"identifiant_public_unite;service;lundi_plage1_debut\n1;A;8h00\n", "absentes"),
        (b"\xff\xfe\x00i\x00d", "UTF-8"),  # UTF-16 or Latin-1 file
        (";".join(STRUCTURED_COLUMNS).encode() + b"\n" + b";" * 59 + b"\n", "aucune ligne valide"),
    ],
)
def test_file_problems_refuse_the_whole_file(content: bytes, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        read_units(content)


def test_missing_columns_are_named() -> None:
    header = [name for name in STRUCTURED_COLUMNS if name not in {"commune", "url"}]
    with pytest.raises(DatasetError, match="commune, url"):
        read_units((";".join(header) + "\n").encode())


def test_written_file_reads_back_identically() -> None:
    record = UnitRecord(
        public_id="42",
        name='Brigade "A"; B',
        address="x",
        department="974",
        latitude=-21.0,
        longitude=55.5,
        hours={0: [(480, 720), (840, 1440)], 7: [(0, 1440)]},
    )
    data = write_units([record])
    assert data.startswith(";".join(STRUCTURED_COLUMNS).encode() + b"\r\n")
    _, [(line, again)] = read(data)
    assert line == 2
    assert write_units([again]) == data
    assert b";08h00;12h00;14h00;24h00;" in data


@pytest.mark.parametrize(
    ("postcode", "commune", "expected", "problem"),
    [
        ("01210", "Ornex", ("01210", "Ornex"), None),  # as it should be
        ("Ste Lucie De Tallano", "20112", ("20112", "Ste Lucie De Tallano"), "inversés"),  # real
        ("1210", "Ornex", ("", "Ornex"), "code postal invalide « 1210 », ignoré"),  # too short
    ],
)
def test_postcode_swapped_with_commune_is_put_back(
    postcode: str, commune: str, expected: tuple[str, str], problem: str | None
) -> None:
    record = UnitRecord(
        public_id="1", name="B", department="2A", postcode=postcode, commune=commune
    )
    parsed, [(_, again)] = read(write_units([record]))
    assert (again.postcode, again.commune) == expected
    messages = [str(p) for p in parsed.problems]
    if problem:
        assert len(messages) == 1
        assert problem in messages[0]
        assert "code_postal" in messages[0]
    else:
        assert messages == []


def test_columns_left_aside_are_named_as_the_file_names_them() -> None:
    header = ";".join((*STRUCTURED_COLUMNS, "Remarque", "", "GEOCODAGE_X_GPS_bis"))
    row = "1;Brigade;;;01" + ";" * (len(STRUCTURED_COLUMNS) - 5) + ";x;;y"
    parsed = read_units(f"{header}\n{row}\n".encode())
    assert parsed.notices == ["colonnes ignorées : Remarque, GEOCODAGE_X_GPS_bis"]

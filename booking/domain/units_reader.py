"""Read both published layouts of the units dataset, choosing by header.

Rows are read one physical line at a time: the official files hold no multi-line
values, and a stray `"` must spoil one row, not swallow the rest of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field

from booking.domain.hours import (
    DAY_KEYS,
    HoursError,
    Range,
    normalise_day,
    parse_free_text,
    parse_time,
)
from booking.domain.units_csv import (
    BASE_COLUMNS,
    EMAIL_COLUMN,
    FREE_TEXT_COLUMN,
    FREE_TEXT_OPTIONAL,
    HOUR_COLUMNS,
    STRUCTURED_COLUMNS,
    DatasetError,
    RowProblem,
    UnitRecord,
)
from booking.domain.units_values import DEPARTMENT, check_postcode, read_coordinates


@dataclass
class ParsedDataset:
    """What a file holds: its layout, the good rows, every row problem, notices on the file."""

    layout: str
    rows_read: int = 0
    records: list[tuple[int, UnitRecord]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Identifiers seen on rows that were rejected: those units must not be deactivated.
    rejected_ids: set[str] = field(default_factory=set)


class _RowRejected(Exception):
    """Internal: abandon the current row."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def read_units(data: bytes) -> ParsedDataset:
    """Parse a units file of either layout; raise DatasetError when the file itself is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"le fichier n'est pas encodé en UTF-8 (octet illisible en position {error.start}) ;"
            " enregistrez-le en UTF-8 et recommencez"
        ) from error
    # Only CR and LF end a row: str.splitlines() would also split on U+2028 inside a value.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines or not lines[0].strip():
        raise DatasetError("le fichier est vide ou sa première ligne (l'en-tête) est vide")
    header = [name.strip().strip('"').strip() for name in lines[0].split(";")]
    layout = _detect_layout(header)
    result = ParsedDataset(layout=layout)
    index = {name: position for position, name in enumerate(header) if name}
    known = set(STRUCTURED_COLUMNS) | {FREE_TEXT_COLUMN, EMAIL_COLUMN, *FREE_TEXT_OPTIONAL}
    unknown = [name for name in header if name and name not in known]
    if unknown:
        result.notices.append("colonnes ignorées : " + ", ".join(unknown))
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        result.rows_read += 1
        try:
            values = _split_row(line, number, len(header), result.problems)
            record = _read_record(values, index, layout, number, result.problems)
        except _RowRejected as rejection:
            result.problems.append(RowProblem(number, rejection.column, rejection.reason, True))
            public_id = _peek_id(line, index)
            if public_id:
                result.rejected_ids.add(public_id)
            continue
        if record.public_id in seen:
            result.problems.append(
                RowProblem(
                    number,
                    "identifiant_public_unite",
                    f"identifiant {record.public_id} déjà présent ligne {seen[record.public_id]}",
                    True,
                )
            )
            continue
        seen[record.public_id] = number
        result.records.append((number, record))
    if not result.records:
        raise DatasetError("aucune ligne valide dans le fichier")
    return result


def _detect_layout(header: list[str]) -> str:
    """`structured` or `free_text`, by the columns present; refuse an unknown or partial header."""
    names = set(header)
    required: tuple[str, ...]
    if FREE_TEXT_COLUMN in names:
        layout, required = "free_text", BASE_COLUMNS + (FREE_TEXT_COLUMN,)
    elif names & set(HOUR_COLUMNS):
        layout, required = "structured", STRUCTURED_COLUMNS
    else:
        raise DatasetError(
            "format inconnu : l'en-tête n'a ni les colonnes lundi_plage1_debut… (format"
            " structuré) ni la colonne horaires_accueil (format texte)"
        )
    missing = [name for name in required if name not in names]
    if missing:
        raise DatasetError("colonnes obligatoires absentes : " + ", ".join(missing))
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise DatasetError("colonnes en double : " + ", ".join(duplicated))
    return layout


def _split_row(line: str, number: int, width: int, problems: list[RowProblem]) -> list[str]:
    """The fields of one line; a stray quote is tolerated and reported."""
    try:
        values = next(csv.reader([line], delimiter=";", strict=True))
    except csv.Error:
        values = [value.replace('"', "") for value in line.split(";")]
        problems.append(RowProblem(number, "", "guillemet isolé retiré", False))
    if len(values) > width and not any(value.strip() for value in values[width:]):
        values = values[:width]
    if len(values) != width:
        raise _RowRejected("", f"{len(values)} champs au lieu de {width}")
    return values


def _peek_id(line: str, index: dict[str, int]) -> str:
    """Best-effort identifier of a rejected line, so its unit is not taken for absent."""
    fields = line.split(";")
    position = index.get("identifiant_public_unite", 0)
    value = fields[position].strip().strip('"').strip() if position < len(fields) else ""
    return "" if value in {"", "0"} else value


def _read_record(
    values: list[str],
    index: dict[str, int],
    layout: str,
    number: int,
    problems: list[RowProblem],
) -> UnitRecord:
    """Build a record from one row's fields, or raise _RowRejected."""

    def get(name: str) -> str:
        position = index.get(name)
        return " ".join(values[position].split()) if position is not None else ""

    public_id = get("identifiant_public_unite")
    if public_id in {"", "0"}:
        raise _RowRejected("identifiant_public_unite", "identifiant vide ou nul")
    name = get("service")
    if not name:
        raise _RowRejected("service", "nom de l'unité vide")
    department = get("departement").upper()
    if department.isdigit() and len(department) == 1:
        department = "0" + department
    if not DEPARTMENT.match(department):
        raise _RowRejected("departement", f"département inconnu « {department} »")
    record = UnitRecord(
        public_id=public_id,
        name=name,
        address=get("adresse_geographique"),
        phone=get("telephone"),
        department=department,
        insee=get("code_commune_insee"),
        street=get("voie"),
        postcode=get("code_postal"),
        commune=get("commune"),
        url=get("url"),
        email=get(EMAIL_COLUMN) if EMAIL_COLUMN in index else None,
    )
    check_postcode(record, number, problems)
    record.latitude, record.longitude = read_coordinates(
        get("geocodage_y_GPS"), get("geocodage_x_GPS"), department, number, problems
    )
    if layout == "structured":
        record.hours = _read_structured_hours(get)
    else:
        try:
            record.hours = parse_free_text(get(FREE_TEXT_COLUMN))
        except HoursError as error:
            raise _RowRejected(FREE_TEXT_COLUMN, str(error)) from error
    return record


def _read_structured_hours(get: Callable[[str], str]) -> dict[int, list[Range]]:
    """The 48 hour columns of one row; a half-filled or impossible pair rejects the row."""
    hours = {}
    for day_number, day in enumerate(DAY_KEYS):
        ranges = []
        for n in (1, 2, 3):
            start_column, end_column = f"{day}_plage{n}_debut", f"{day}_plage{n}_fin"
            start, end = get(start_column), get(end_column)
            if not start and not end:
                continue
            if not start or not end:
                column = start_column if not start else end_column
                raise _RowRejected(column, "plage incomplète (début ou fin manquant)")
            try:
                ranges.append((parse_time(start), parse_time(end)))
            except HoursError as error:
                raise _RowRejected(start_column, str(error)) from error
        try:
            if ranges:
                hours[day_number] = normalise_day(ranges)
        except HoursError as error:
            raise _RowRejected(f"{day}_plage1_debut", str(error)) from error
    return hours

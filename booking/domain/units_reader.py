"""Read both published layouts of the units dataset, choosing by header.

Rows are read one physical line at a time: the official files hold no multi-line
values, and a stray `"` must spoil one row, not swallow the rest of the file. (A quoted
value that does run onto the next line, and makes a whole row with it, is joined.)

Reading is done in two passes so that memory does not grow with the file: `read_units`
checks every row and keeps only what the import needs to decide (problems, identifiers),
then `unit_records` reads the good rows again, one at a time, for the writes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from booking.domain.hours import (
    DAY_KEYS,
    DAY_LABELS_FR,
    HoursError,
    Range,
    check_range,
    format_time,
    normalise_day,
    parse_free_text,
    parse_time,
)
from booking.domain.text import ODD_CHARACTERS
from booking.domain.units_csv import (
    BASE_COLUMNS,
    EMAIL_COLUMN,
    FIELD_LENGTHS,
    FREE_TEXT_COLUMN,
    FREE_TEXT_OPTIONAL,
    HOUR_COLUMNS,
    RANGES_PER_DAY,
    STRUCTURED_COLUMNS,
    DatasetError,
    RowProblem,
    UnitRecord,
)
from booking.domain.units_values import (
    DEPARTMENT,
    INSEE,
    check_insee,
    check_postcode,
    check_url,
    read_coordinates,
)

KNOWN_COLUMNS = (*STRUCTURED_COLUMNS, FREE_TEXT_COLUMN, EMAIL_COLUMN, *FREE_TEXT_OPTIONAL)
_REQUIRED_VALUES = ("identifiant_public_unite", "service")
# Checked once a postcode swapped with the commune's name has been put back.
_CHECKED_AFTER_SWAP = ("code_postal", "commune")


@dataclass
class ParsedDataset:
    """What a file holds: its layout, every row problem, notices on the file, and the
    identifiers of its good rows (each with its line); not the rows themselves."""

    layout: str
    rows_read: int = 0
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Identifiers seen on rows that were rejected: those units must not be deactivated.
    rejected_ids: set[str] = field(default_factory=set)

    @property
    def units(self) -> int:
        """How many units the good rows describe."""
        return len(self.lines)


class _RowRejected(Exception):
    """Internal: abandon the current row."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class _Header:
    layout: str
    names: list[str]  # canonical names, "" for an empty or unknown column
    index: dict[str, int]
    unknown: list[str]  # columns left aside, as the file names them


def read_units(data: bytes) -> ParsedDataset:
    """Check every row of a units file of either layout; DatasetError when the file itself
    is wrong (nothing of it may then be loaded)."""
    header, lines = _open(data)
    notices = ["colonnes ignorées : " + ", ".join(header.unknown)] if header.unknown else []
    result = ParsedDataset(layout=header.layout, notices=notices)
    for number, record, problems, public_id in _rows(header, lines):
        result.rows_read += 1
        if record is None:
            result.problems += problems
            if public_id:
                result.rejected_ids.add(public_id)
            continue
        first = result.lines.get(record.public_id)
        if first is not None:
            result.problems.append(
                RowProblem(
                    number,
                    "identifiant_public_unite",
                    f"identifiant {record.public_id} déjà présent ligne {first}",
                    True,
                )
            )
            continue
        result.problems += problems
        result.lines[record.public_id] = number
    if not result.lines:
        raise DatasetError("aucune ligne valide dans le fichier")
    return result


def unit_records(data: bytes, parsed: ParsedDataset) -> Iterator[tuple[int, UnitRecord]]:
    """The good rows of a file `read_units` has checked, read again one at a time."""
    header, lines = _open(data)
    for number, record, _, _ in _rows(header, lines):
        if record is not None and parsed.lines.get(record.public_id) == number:
            yield number, record


def _open(data: bytes) -> tuple[_Header, list[str]]:
    """The header, understood, and the lines that follow it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DatasetError(
            f"le fichier n'est pas encodé en UTF-8 (ligne {line} : caractère illisible, sans"
            " doute un fichier Windows ou Latin-1) ; enregistrez-le en UTF-8 et recommencez"
        ) from error
    # Only CR and LF end a row: str.splitlines() would also split on U+2028 inside a value.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    del text
    while lines and not lines[-1]:
        lines.pop()
    if not lines or not lines[0].strip():
        raise DatasetError("le fichier est vide ou sa première ligne (l'en-tête) est vide")
    return _read_header(lines[0]), lines


def _read_header(line: str) -> _Header:
    """Column names matched whatever their case; the layout chosen by the columns present."""
    canonical = {name.casefold(): name for name in KNOWN_COLUMNS}
    raw = [name.strip().strip('"').strip() for name in line.split(";")]
    names = [canonical.get(name.casefold(), "") for name in raw]
    present = set(names)
    required: tuple[str, ...]
    if FREE_TEXT_COLUMN in present:
        layout, required = "free_text", BASE_COLUMNS + (FREE_TEXT_COLUMN,)
    elif present & set(HOUR_COLUMNS):
        layout, required = "structured", STRUCTURED_COLUMNS
    else:
        raise DatasetError(
            "format inconnu : l'en-tête n'a ni les colonnes lundi_plage1_debut… (format"
            " structuré) ni la colonne horaires_accueil (format texte) ; en-tête lu : "
            + ", ".join(name for name in raw[:6] if name)
        )
    missing = [name for name in required if name not in present]
    if missing:
        raise DatasetError("colonnes obligatoires absentes : " + ", ".join(missing))
    duplicated = sorted({name for name in names if name and names.count(name) > 1})
    if duplicated:
        raise DatasetError("colonnes en double : " + ", ".join(duplicated))
    index = {name: position for position, name in enumerate(names) if name}
    unknown = [name for name, known in zip(raw, names, strict=True) if name and not known]
    return _Header(layout, names, index, unknown)


def _rows(
    header: _Header, lines: list[str]
) -> Iterator[tuple[int, UnitRecord | None, list[RowProblem], str]]:
    """Each row: its line, its record (None when rejected), its problems, and the
    identifier it seems to carry."""
    width = len(header.names)
    position = 1
    while position < len(lines):
        number, line = position + 1, lines[position]
        position += 1
        if not line.strip():
            continue
        problems: list[RowProblem] = []
        values: list[str] | None = None
        try:
            values, joined = _split_row(line, lines[position] if position < len(lines) else None)
            if joined:
                position += 1
                problems.append(
                    RowProblem(number, "", "valeur entre guillemets sur deux lignes, réunie", False)
                )
            elif '"' in line and not _quoted_well(line):
                problems.append(RowProblem(number, "", "guillemet isolé retiré", False))
            values = _fit_width(values, width, number, problems)
            record = _read_record(values, header, number, problems)
        except _RowRejected as rejection:
            # One outcome per row: what was fixed on a row that is then left out is moot.
            rejected = [RowProblem(number, rejection.column, rejection.reason, True)]
            yield number, None, rejected, _peek_id(values, line, header.index)
            continue
        yield number, record, problems, record.public_id


def _split_row(line: str, following: str | None) -> tuple[list[str], bool]:
    """The fields of one line (True: with the next one, a quoted value running onto it); a
    stray quote that makes neither is taken away (the caller reports it)."""
    try:
        return next(csv.reader([line], delimiter=";", strict=True)), False
    except csv.Error:
        pass
    if following is not None and line.count('"') % 2:
        try:
            return next(csv.reader([f"{line}\n{following}"], delimiter=";", strict=True)), True
        except csv.Error:
            pass
    return [value.replace('"', "") for value in line.split(";")], False


def _quoted_well(line: str) -> bool:
    """Whether a line's quotes follow RFC 4180."""
    try:
        next(csv.reader([line], delimiter=";", strict=True))
    except csv.Error:
        return False
    return True


def _fit_width(values: list[str], width: int, number: int, problems: list[RowProblem]) -> list[str]:
    """The row's fields, as many as the header's columns (empty ones at the end ignored)."""
    if len(values) > width and not any(value.strip() for value in values[width:]):
        values = values[:width]
    if len(values) != width:
        raise _RowRejected("", f"{len(values)} champs au lieu de {width}")
    return values


def _peek_id(values: list[str] | None, line: str, index: dict[str, int]) -> str:
    """Best-effort identifier of a rejected line, so its unit is not taken for absent."""
    if values is None:
        try:
            values = next(csv.reader([line], delimiter=";"))
        except csv.Error:
            values = line.split(";")
    position = index.get("identifiant_public_unite", 0)
    value = values[position].strip().strip('"').strip() if position < len(values) else ""
    return "" if value in {"", "0"} else value


def _read_record(
    values: list[str], header: _Header, number: int, problems: list[RowProblem]
) -> UnitRecord:
    """Build a record from one row's fields, or raise _RowRejected."""
    index = header.index
    for position, value in enumerate(values):
        if ODD_CHARACTERS.search(value):
            values[position] = ODD_CHARACTERS.sub("", value)
            column = header.names[position]
            if column:
                problems.append(RowProblem(number, column, "caractères de contrôle retirés", False))

    def get(name: str) -> str:
        position = index.get(name)
        value = " ".join(values[position].split()) if position is not None else ""
        most = None if name in _CHECKED_AFTER_SWAP else FIELD_LENGTHS.get(name)
        if most is not None and len(value) > most:
            reason = f"valeur de {len(value)} caractères, {most} au plus"
            if name in _REQUIRED_VALUES:
                raise _RowRejected(name, reason)
            problems.append(RowProblem(number, name, f"{reason} : ignorée", False))
            return ""
        return value

    public_id = get("identifiant_public_unite")
    if public_id in {"", "0"}:
        raise _RowRejected("identifiant_public_unite", "identifiant vide ou nul")
    name = get("service")
    if not name:
        raise _RowRejected("service", "nom de l'unité vide")
    insee = get("code_commune_insee")
    record = UnitRecord(
        public_id=public_id,
        name=name,
        address=get("adresse_geographique"),
        phone=get("telephone"),
        department=_department(get("departement"), insee, number, problems),
        insee=insee,
        street=get("voie"),
        postcode=get("code_postal"),
        commune=get("commune"),
        url=get("url"),
        email=get(EMAIL_COLUMN) if EMAIL_COLUMN in index else None,
    )
    check_insee(record, number, problems)
    check_postcode(record, number, problems)
    most = FIELD_LENGTHS["commune"]
    if len(record.commune) > most:
        reason = f"valeur de {len(record.commune)} caractères, {most} au plus : ignorée"
        problems.append(RowProblem(number, "commune", reason, False))
        record.commune = ""
    check_url(record, number, problems)
    record.latitude, record.longitude = read_coordinates(
        get("geocodage_y_GPS"), get("geocodage_x_GPS"), record.department, number, problems
    )
    if header.layout == "structured":
        record.hours = _read_structured_hours(get)
    else:
        record.hours = _read_free_text_hours(get(FREE_TEXT_COLUMN), number, problems)
    return record


def _department(code: str, insee: str, number: int, problems: list[RowProblem]) -> str:
    """The département's code: `1` read as `01`; `20` (Corsica before 1976) told apart by the
    commune's INSEE code; anything else unknown rejects the row."""
    code = code.upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    if code == "20" and INSEE.match(insee.upper()) and insee[:2].upper() in {"2A", "2B"}:
        problems.append(
            RowProblem(number, "departement", f"« 20 » lu {insee[:2].upper()} (code INSEE)", False)
        )
        code = insee[:2].upper()
    if not DEPARTMENT.match(code):
        raise _RowRejected("departement", f"département inconnu « {code} »")
    return code


def _read_free_text_hours(
    text: str, number: int, problems: list[RowProblem]
) -> dict[int, list[Range]]:
    """The free-text column. Any number of ranges a day is kept (SPEC §2); more than the
    published layout's columns hold is told, since the export joins the closest ones."""
    try:
        hours = parse_free_text(text)
    except HoursError as error:
        raise _RowRejected(FREE_TEXT_COLUMN, str(error)) from error
    for day, ranges in hours.items():
        if len(ranges) > RANGES_PER_DAY:
            reason = (
                f"{DAY_LABELS_FR[day]} : {len(ranges)} plages gardées (le format publié en a"
                f" {RANGES_PER_DAY} colonnes : l'export joint les deux plus proches)"
            )
            problems.append(RowProblem(number, FREE_TEXT_COLUMN, reason, False))
    return hours


def _read_structured_hours(get: Callable[[str], str]) -> dict[int, list[Range]]:
    """The 48 hour columns of one row; a half-filled or impossible pair rejects the row,
    on the column where the fault is."""
    hours = {}
    for day_number, day in enumerate(DAY_KEYS):
        ranges: list[tuple[Range, str]] = []
        for n in range(1, RANGES_PER_DAY + 1):
            start_column, end_column = f"{day}_plage{n}_debut", f"{day}_plage{n}_fin"
            start, end = get(start_column), get(end_column)
            if not start and not end:
                continue
            if not start or not end:
                column = start_column if not start else end_column
                raise _RowRejected(column, "plage incomplète (début ou fin manquant)")
            ranges.append((_range(start, end, start_column, end_column), start_column))
        if not ranges:
            continue
        ordered = sorted(ranges)
        for (previous, _), (current, column) in zip(ordered, ordered[1:], strict=False):
            if current[0] < previous[1]:
                raise _RowRejected(
                    column,
                    f"plages qui se chevauchent : {format_time(previous[0])}–"
                    f"{format_time(previous[1])} et {format_time(current[0])}–"
                    f"{format_time(current[1])}",
                )
        hours[day_number] = normalise_day([pair for pair, _ in ranges])
    return hours


def _range(start: str, end: str, start_column: str, end_column: str) -> Range:
    """One range of two columns; a fault is reported on the column that holds it."""
    try:
        begin = parse_time(start)
    except HoursError as error:
        raise _RowRejected(start_column, str(error)) from error
    try:
        finish = parse_time(end)
    except HoursError as error:
        raise _RowRejected(end_column, str(error)) from error
    try:
        return check_range(begin, finish)
    except HoursError as error:
        raise _RowRejected(end_column, str(error)) from error

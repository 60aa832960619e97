"""Read both published layouts of the units dataset, and write the structured one.

Rows are read one physical line at a time: the official files hold no multi-line
values, and a stray `"` must spoil one row, not swallow the rest of the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from booking.domain.hours import (
    DAY_KEYS,
    HoursError,
    Range,
    format_time_csv,
    normalise_day,
    parse_free_text,
    parse_time,
)

BASE_COLUMNS = (
    "identifiant_public_unite",
    "service",
    "adresse_geographique",
    "telephone",
    "departement",
    "code_commune_insee",
    "voie",
    "code_postal",
    "commune",
    "geocodage_x_GPS",
    "geocodage_y_GPS",
    "url",
)
HOUR_COLUMNS = tuple(
    f"{day}_plage{n}_{bound}" for day in DAY_KEYS for n in (1, 2, 3) for bound in ("debut", "fin")
)
STRUCTURED_COLUMNS = BASE_COLUMNS + HOUR_COLUMNS
FREE_TEXT_COLUMN = "horaires_accueil"
# Not part of the official layouts: the project's own dataset carries the units' emails.
EMAIL_COLUMN = "courriel"
FREE_TEXT_OPTIONAL = ("geocodage_epsg", "geocodage_x", "geocodage_y")
RANGES_PER_DAY = 3

_POSTCODE = re.compile(r"^\d{5}$")
_DEPARTMENT = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-8]|98[6-8])$")

# Rough boxes (lat_min, lat_max, lon_min, lon_max) of each territory, to catch swapped axes.
_METROPOLE = (41.0, 51.5, -5.8, 10.0)
TERRITORY_BOXES = {
    "971": (15.8, 18.2, -63.3, -60.9),
    "972": (14.3, 15.0, -61.3, -60.7),
    "973": (2.0, 6.0, -54.7, -51.5),
    "974": (-21.5, -20.8, 55.1, 56.0),
    "975": (46.7, 47.2, -56.6, -56.0),
    "976": (-13.1, -12.5, 44.9, 45.4),
    "977": (17.8, 18.0, -63.0, -62.7),
    "978": (18.0, 18.2, -63.2, -62.9),
    "986": (-14.5, -13.0, -178.3, -176.0),
    "987": (-28.0, -7.0, -155.0, -134.0),
    "988": (-23.0, -19.0, 163.0, 169.0),
}


class DatasetError(Exception):
    """A problem with the whole file: nothing of it may be loaded. The message is French."""


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in one row: where, why, and what the importer did about it."""

    line: int
    column: str
    reason: str
    rejected: bool  # True: the row was skipped; False: the row loaded with this value fixed

    def __str__(self) -> str:
        """`ligne 12, colonne telephone : … (ligne ignorée)`."""
        outcome = "ligne ignorée" if self.rejected else "ligne chargée"
        where = f"ligne {self.line}" + (f", colonne {self.column}" if self.column else "")
        return f"{where} : {self.reason} ({outcome})"


@dataclass
class UnitRecord:
    """A unit as the dataset describes it."""

    public_id: str
    name: str
    address: str = ""
    phone: str = ""
    department: str = ""
    insee: str = ""
    street: str = ""
    postcode: str = ""
    commune: str = ""
    longitude: float | None = None
    latitude: float | None = None
    url: str = ""
    email: str | None = None  # None: the file says nothing about emails
    hours: dict[int, list[Range]] = field(default_factory=dict)


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
    if not _DEPARTMENT.match(department):
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
    _check_postcode(record, number, problems)
    record.latitude, record.longitude = _read_coordinates(
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


def _check_postcode(record: UnitRecord, number: int, problems: list[RowProblem]) -> None:
    """Put back a postcode swapped with the commune's name; drop one that is not a postcode."""
    if not record.postcode or _POSTCODE.match(record.postcode):
        return
    if _POSTCODE.match(record.commune):
        problems.append(
            RowProblem(
                number, "code_postal", "code postal et commune inversés, remis en ordre", False
            )
        )
        record.postcode, record.commune = record.commune, record.postcode
        return
    problems.append(
        RowProblem(
            number, "code_postal", f"code postal invalide « {record.postcode} », ignoré", False
        )
    )
    record.postcode = ""


def _read_coordinates(
    latitude_text: str,
    longitude_text: str,
    department: str,
    number: int,
    problems: list[RowProblem],
) -> tuple[float | None, float | None]:
    """Latitude and longitude, swapped back when given the wrong way round, dropped if absurd."""
    if not latitude_text and not longitude_text:
        return None, None
    try:
        latitude = float(latitude_text.replace(",", "."))
        longitude = float(longitude_text.replace(",", "."))
    except ValueError:
        problems.append(
            RowProblem(number, "geocodage_y_GPS", "coordonnées illisibles, ignorées", False)
        )
        return None, None
    box = TERRITORY_BOXES.get(department, _METROPOLE)
    if _inside(box, latitude, longitude):
        return latitude, longitude
    if _inside(box, longitude, latitude):
        problems.append(
            RowProblem(
                number,
                "geocodage_x_GPS",
                "longitude et latitude inversées, remises en ordre",
                False,
            )
        )
        return longitude, latitude
    problems.append(
        RowProblem(
            number,
            "geocodage_y_GPS",
            f"coordonnées ({latitude}, {longitude}) hors du territoire du département"
            f" {department}, ignorées",
            False,
        )
    )
    return None, None


def _inside(box: tuple[float, float, float, float], latitude: float, longitude: float) -> bool:
    """Whether a point lies in a territory's box."""
    lat_min, lat_max, lon_min, lon_max = box
    return lat_min <= latitude <= lat_max and lon_min <= longitude <= lon_max


def format_coordinate(value: float | None) -> str:
    """Shortest stable decimal writing of a coordinate (at most 8 decimals, ~1 mm)."""
    if value is None:
        return ""
    return f"{value:.8f}".rstrip("0").rstrip(".")


def write_units(records: Iterable[UnitRecord], *, with_email: bool = False) -> bytes:
    """The structured layout, `;`, UTF-8 without BOM, CRLF line ends as RFC 4180 says."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(STRUCTURED_COLUMNS + ((EMAIL_COLUMN,) if with_email else ()))
    for record in records:
        row = [
            record.public_id,
            record.name,
            record.address,
            record.phone,
            record.department,
            record.insee,
            record.street,
            record.postcode,
            record.commune,
            format_coordinate(record.longitude),
            format_coordinate(record.latitude),
            record.url,
        ]
        for day_number in range(len(DAY_KEYS)):
            ranges = record.hours.get(day_number, [])
            if len(ranges) > RANGES_PER_DAY:
                raise ValueError(f"{record.public_id}: plus de {RANGES_PER_DAY} plages un jour")
            for n in range(RANGES_PER_DAY):
                if n < len(ranges):
                    row += [format_time_csv(ranges[n][0]), format_time_csv(ranges[n][1])]
                else:
                    row += ["", ""]
        if with_email:
            row.append(record.email or "")
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")

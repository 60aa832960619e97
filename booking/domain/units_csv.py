"""The published layouts of the units dataset: their columns, a unit as they describe it,
and the writer of the structured layout (the open-data CSV). Reading is `units_reader`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from booking.domain.hours import (
    DAY_KEYS,
    Range,
    fit_ranges,
    format_time_csv,
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
# The longest value of each column the database holds (booking.models.Unit; a test keeps
# both in step). A longer value is a row problem, found before anything is written.
FIELD_LENGTHS = {
    "identifiant_public_unite": 40,
    "service": 200,
    "adresse_geographique": 300,
    "telephone": 40,
    "departement": 3,
    "code_commune_insee": 5,
    "voie": 300,
    "code_postal": 10,
    "commune": 120,
    "url": 500,
    EMAIL_COLUMN: 254,
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
            ranges = fit_ranges(record.hours.get(day_number, []), RANGES_PER_DAY)
            for n in range(RANGES_PER_DAY):
                if n < len(ranges):
                    row += [format_time_csv(ranges[n][0]), format_time_csv(ranges[n][1])]
                else:
                    row += ["", ""]
        if with_email:
            row.append(record.email or "")
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")

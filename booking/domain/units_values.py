"""Checks of single values of a dataset row: postcodes, département codes, coordinates.

Each check fixes what can be fixed safely (and says so) or drops the value, reporting a
row problem; `units_reader` decides what a row becomes.
"""

from __future__ import annotations

import re

from booking.domain.units_csv import RowProblem, UnitRecord

_POSTCODE = re.compile(r"^\d{5}$")
# Metropolitan départements (no "20": Corsica is 2A and 2B since 1976), overseas ones and
# collectivities. The Table Schema publishes the same patterns.
DEPARTMENT_PATTERN = r"^(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2[AB]|97[1-8]|98[6-8])$"
DEPARTMENT = re.compile(DEPARTMENT_PATTERN)
INSEE_PATTERN = r"^([0-9]{2}|2[AB])[0-9]{3}$"
INSEE = re.compile(INSEE_PATTERN)
URL = re.compile(r"^https?://[^\s\"'<>]+$")

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


def check_insee(record: UnitRecord, number: int, problems: list[RowProblem]) -> None:
    """Give back the leading zero a spreadsheet took (`1034` → `01034`); drop a code that is
    not one (the column is optional: the unit loads without it)."""
    code = record.insee.upper()
    if not code:
        return
    if code.isdigit() and len(code) == 4:
        problems.append(
            RowProblem(number, "code_commune_insee", f"code « {code} » complété en 0{code}", False)
        )
        code = "0" + code
    if not INSEE.match(code):
        problems.append(
            RowProblem(
                number, "code_commune_insee", f"code INSEE invalide « {code} », ignoré", False
            )
        )
        code = ""
    record.insee = code


def check_url(record: UnitRecord, number: int, problems: list[RowProblem]) -> None:
    """Take away quotes left around an address; drop one that is not a web address."""
    url = record.url.strip().strip("\"'").strip()
    if url != record.url:
        problems.append(RowProblem(number, "url", "guillemets ou espaces retirés", False))
    if url and not URL.match(url):
        problems.append(RowProblem(number, "url", "adresse web invalide, ignorée", False))
        url = ""
    record.url = url


def check_postcode(record: UnitRecord, number: int, problems: list[RowProblem]) -> None:
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


def read_coordinates(
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

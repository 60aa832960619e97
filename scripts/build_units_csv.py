"""Build data/units.csv, the service's default dataset, from the public directory of 2019.

Usage: python scripts/build_units_csv.py SOURCE_DIR OUTPUT_CSV

SOURCE_DIR holds one GeoJSON FeatureCollection per département (`01.json` … `988.json`):
the gendarmerie entries of service-public.fr's directory (DILA, Licence Ouverte), as archived
by betagouv/annuaire-api. Names, addresses, postcodes, communes, INSEE codes, coordinates,
phones and emails are copied as published (phones in the international form when valid;
an invalid one is kept as published, and the importer reports it).

Two things the directory lacks are made up here, deterministically:
- the identifier: the directory's own stable id without its prefix
  (`gendarmerie-01281-01` → `01281-01`: INSEE code of the commune, then a sequence number);
- the opening hours, for all but the 2 units that publish them: a typical brigade pattern
  drawn from a hash of the identifier. They are illustrative, not the units' real hours.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking.domain.hours import DAY_KEYS, PUBLIC_HOLIDAYS, Range, normalise_day  # noqa: E402
from booking.domain.units_csv import UnitRecord, write_units  # noqa: E402
from booking.phones import display_phone  # noqa: E402

H = 60
MORNING, AFTERNOON = (8 * H, 12 * H), (14 * H, 18 * H)
SUNDAY_MORNING, SUNDAY_AFTERNOON = (9 * H, 12 * H), (15 * H, 18 * H)
WEEK = range(5)

# Typical public-reception patterns of brigades, by weight.
PATTERNS: list[tuple[str, int, dict[int, list[Range]]]] = [
    (
        "brigade autonome, 7 jours sur 7",
        30,
        {
            **{day: [MORNING, AFTERNOON] for day in range(6)},
            6: [SUNDAY_MORNING, SUNDAY_AFTERNOON],
            PUBLIC_HOLIDAYS: [SUNDAY_MORNING, SUNDAY_AFTERNOON],
        },
    ),
    (
        "semaine et samedi, dimanche et fériés le matin",
        25,
        {
            **{day: [MORNING, AFTERNOON] for day in WEEK},
            5: [MORNING, AFTERNOON],
            6: [SUNDAY_MORNING],
            PUBLIC_HOLIDAYS: [SUNDAY_MORNING],
        },
    ),
    (
        "jours ouvrés",
        20,
        {**{day: [MORNING, AFTERNOON] for day in WEEK}, 5: [MORNING]},
    ),
    (
        "brigade de proximité, après-midi",
        13,
        {day: [AFTERNOON] for day in (0, 2, 4)},
    ),
    (
        "petite brigade, deux demi-journées",
        10,
        {2: [AFTERNOON], 5: [MORNING]},
    ),
    (
        "accueil 24 h sur 24",
        2,
        {day: [(0, 24 * H)] for day in [*range(7), PUBLIC_HOLIDAYS]},
    ),
]
_WEIGHTS = sum(weight for _, weight, _ in PATTERNS)


def illustrative_hours(public_id: str) -> dict[int, list[Range]]:
    """A pattern chosen by a hash of the identifier: the same unit always gets the same."""
    draw = int(hashlib.sha256(public_id.encode()).hexdigest(), 16) % _WEIGHTS
    for _, weight, hours in PATTERNS:
        if draw < weight:
            return {day: list(ranges) for day, ranges in hours.items()}
        draw -= weight
    raise AssertionError("weights")


def published_hours(opening: dict) -> dict[int, list[Range]]:
    """Hours from the directory's `Ouverture.PlageJ` (day spans with one or more PlageH)."""
    hours: dict[int, list[Range]] = {}
    for span in opening["PlageJ"]:
        first, last = DAY_KEYS.index(span["début"]), DAY_KEYS.index(span["fin"])
        plages = span["PlageH"] if isinstance(span["PlageH"], list) else [span["PlageH"]]
        for day in range(first, last + 1):
            for plage in plages:
                hours.setdefault(day, []).append((_minutes(plage["début"]), _minutes(plage["fin"])))
    return {day: normalise_day(ranges) for day, ranges in sorted(hours.items())}


def _minutes(text: str) -> int:
    """Minutes of `08:00:00`."""
    hours, minutes = text.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def unit_record(department: str, properties: dict) -> UnitRecord:
    """One unit of the directory as a dataset record."""
    address = properties["Adresse"]
    line = address.get("Ligne", "")
    street = " ".join(line) if isinstance(line, list) else line
    street = " ".join(street.split())
    location = address.get("Localisation") or {}
    contact = properties.get("CoordonnéesNum", {})
    phone = contact.get("Téléphone", "")
    if isinstance(phone, dict):  # one entry carries a note beside its number
        phone = phone.get("$t", "")
    public_id = properties["id"].removeprefix("gendarmerie-")
    postcode, commune = address["CodePostal"], address["NomCommune"]
    return UnitRecord(
        public_id=public_id,
        name=" ".join(properties["Nom"].split()),
        address=" ".join(f"{street} {postcode} {commune.upper()}".split()),
        phone=display_phone(phone, department) or phone,
        department=department,
        insee=properties.get("codeInsee", ""),
        street=street,
        postcode=postcode,
        commune=commune,
        latitude=float(location["Latitude"]) if location.get("Latitude") else None,
        longitude=float(location["Longitude"]) if location.get("Longitude") else None,
        url=contact.get("Url", ""),
        email=contact.get("Email", ""),
        hours=(
            published_hours(properties["Ouverture"])
            if "Ouverture" in properties
            else illustrative_hours(public_id)
        ),
    )


def build(source: Path) -> list[UnitRecord]:
    """Every unit of every département file, sorted by identifier."""
    records = []
    for path in sorted(source.glob("*.json")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            records.append(unit_record(path.stem, feature["properties"]))
    return sorted(records, key=lambda record: record.public_id)


def main() -> None:
    """Write the CSV and say how many units it holds."""
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    records = build(Path(sys.argv[1]))
    Path(sys.argv[2]).write_bytes(write_units(records, with_email=True))
    print(f"{len(records)} unités écrites dans {sys.argv[2]}")


if __name__ == "__main__":
    main()

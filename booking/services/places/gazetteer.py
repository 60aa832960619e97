"""The gazetteer: loading data/communes.csv, suggesting places, resolving a query.

Matching is in memory, in each process: the index of 37,000 places is built once (about
half a second) and answers a suggestion in about a millisecond, the same way on SQLite and
PostgreSQL. Typos are scored by rapidfuzz (a maintained C++ library of string distances).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy import delete, func, insert, select

from booking.database import begin_write
from booking.domain.places import PlaceEntry, PlaceIndex, Resolution
from booking.extensions import db
from booking.models import Place
from booking.paths import DATA
from booking.services.places.memo import Memo

DEFAULT_PLACES = DATA / "communes.csv"
# Optimal string alignment (a swap of two letters is one edit), per letter of what was typed:
# one edit in eight letters is 0.875, "chesy" is 0.8 from "chessy"; two names as many edits
# away score the same, whatever their length (the citizen chooses between them).
FUZZY_CUTOFF = 0.75
CHECK_SECONDS = 30.0  # how often a process checks that the gazetteer was not reloaded


def load_places(path: Path = DEFAULT_PLACES) -> int:
    """Replace the gazetteer with a communes file; return how many places it holds."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    begin_write()
    db.session.execute(delete(Place))
    db.session.execute(insert(Place), [_place_row(row) for row in rows])
    db.session.commit()
    INDEX.forget()
    return len(rows)


def _place_row(row: dict[str, str]) -> dict[str, object]:
    """A table row of a file row."""
    located = bool(row["lat"] and row["lon"])
    return {
        "code": row["insee"] if row["kind"] == "commune" else f"{row['insee']}-{row['kind']}",
        "insee": row["insee"],
        "name": row["name"],
        "kind": row["kind"],
        "department": row["department"],
        "postcodes": row["postcodes"],
        "latitude": float(row["lat"]) if located else None,
        "longitude": float(row["lon"]) if located else None,
        "population": int(row["population"]) if row["population"] else None,
        "parent_insee": row["parent_insee"],
    }


def _fuzzy(query: str, keys: Sequence[str], limit: int) -> list[tuple[int, float]]:
    """The closest keys to a query (one minus the edits per letter), best first: the
    candidates found by the fast Indel ratio (a swap counts two there), then scored."""
    if not keys:
        return []
    candidates = process.extract(query, keys, scorer=fuzz.ratio, limit=4 * limit, score_cutoff=60)
    scored = [(index, 1 - OSA.distance(query, key) / len(query)) for key, _, index in candidates]
    scored = [(index, score) for index, score in scored if score >= FUZZY_CUTOFF]
    return sorted(scored, key=lambda item: (-item[1], item[0]))[:limit]


def _build() -> PlaceIndex:
    """The index of every place of the table."""
    rows = db.session.execute(
        select(
            Place.code,
            Place.insee,
            Place.name,
            Place.kind,
            Place.department,
            Place.postcodes,
            Place.latitude,
            Place.longitude,
            Place.population,
        )
    )
    entries = [
        PlaceEntry(
            code=code,
            insee=insee,
            name=name,
            kind=kind,
            department=department,
            postcodes=tuple(postcodes.split()),
            point=(latitude, longitude) if latitude is not None and longitude is not None else None,
            population=population or 0,
        )
        for code, insee, name, kind, department, postcodes, latitude, longitude, population in rows
    ]
    return PlaceIndex(entries, _fuzzy)


def places_version() -> tuple[int, int | None]:
    """Changes when the gazetteer is loaded again."""
    count, last = db.session.execute(select(func.count(Place.id), func.max(Place.id))).one()
    return int(count), last


INDEX: Memo[PlaceIndex] = Memo("places", _build, places_version, CHECK_SECONDS)


def suggest_places(query: str, limit: int = 8) -> list[PlaceEntry]:
    """Places a citizen may mean by what they have typed so far, best first."""
    return INDEX.get().suggest(query, limit)


def resolve_place(query: str) -> Resolution:
    """Which place a search means: one, several to choose from, or none."""
    return INDEX.get().resolve(query)


def find_place(code: str) -> PlaceEntry | None:
    """The place of a code (a suggestion or a choice), if the gazetteer has it."""
    return INDEX.get().lookup(code)


def places_loaded() -> bool:
    """Whether the gazetteer holds any place (a fresh database has none)."""
    return places_version()[0] > 0

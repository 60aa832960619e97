"""Places as citizens type them (SPEC §9), and which one they mean.

A query is a commune's name in any case, with or without accents, hyphens or apostrophes,
"St"/"Ste" for Saint/Sainte, with or without its article ("Havre" for "Le Havre"), whole or
begun, with a typo or two; or a postcode; or an INSEE code; or a suggestion's own label,
"Orléans (45)". Names are ranked in tiers, then by kind (communes first), population and
name:

| tier | the query is…                                 | "orleans" finds |
|------|-----------------------------------------------|-----------------|
| 0    | the whole name                                | Orléans         |
| 1    | the start of the name                         | Orléansville…   |
| 2    | the start of a word inside the name           | Saint-Jean-de-… (for "jean de b") |
| 3    | close to a name (the service's fuzzy scorer), | "orlean" finds Orléans |
|      | when no name is found by the tiers above      |                 |

`resolve` says what a search should look around: one place, several to choose from (names
shared by communes of several départements, or close names when nothing matched), or none.
A postcode resolves to the middle of its communes. Pure: the fuzzy scorer is given.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from booking.domain.geo import Point
from booking.domain.text import fold

KIND_ORDER: Final = {"commune": 0, "arrondissement": 1, "deleguee": 2, "associee": 3}
ARTICLES: Final = ("le ", "la ", "les ", "l ")
_ABBREVIATIONS: Final = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_LABEL: Final = re.compile(r"^(?P<name>.*?)\s*\((?P<department>\d{2,3}|2[AaBb])\)\s*$")
_POSTCODE: Final = re.compile(r"^\d{5}$")
_POSTCODE_START: Final = re.compile(r"^\d{2,4}$")
_INSEE: Final = re.compile(r"^(?:\d{2}|2[AaBb])\d{3}$")
MIN_QUERY: Final = 2  # characters before suggestions start
EXACT, START, WORD, CLOSE = range(4)

# (query, keys, how many) → [(index of the key, score 0–100)], best first.
FuzzyScorer = Callable[[str, Sequence[str], int], list[tuple[int, float]]]


@dataclass(frozen=True, slots=True)
class PlaceEntry:
    """A place as the search knows it."""

    code: str
    insee: str
    name: str
    kind: str
    department: str
    postcodes: tuple[str, ...]
    point: Point | None
    population: int = 0

    @property
    def label(self) -> str:
        """`Orléans (45)`: how a person tells two places of the same name apart."""
        return f"{self.name} ({self.department})"


@dataclass(frozen=True)
class Resolution:
    """What a query means: one place (or a postcode's middle), choices, or nothing."""

    place: PlaceEntry | None = None
    point: Point | None = None
    label: str = ""
    choices: list[PlaceEntry] = field(default_factory=list)  # homonyms, or close names
    exact: bool = False  # the choices share the name typed (rather than resembling it)


def place_key(text: str) -> str:
    """A name or a query folded for matching: `St-Jean-de-Braye` → `saint jean de braye`."""
    words = fold(text).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _variants(key: str) -> set[str]:
    """The key as people write it: whole, without its article (`le havre` → `havre`), and
    with an elided article glued on (`l abergement` → `labergement`)."""
    found = {key}
    for article in ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            found.add(key[len(article) :])
    if key.startswith("l "):
        found.add("l" + key[2:])
    return found


class PlaceIndex:
    """Every place, indexed for the queries above; built once per process, read only."""

    def __init__(self, entries: Iterable[PlaceEntry], fuzzy: FuzzyScorer | None = None) -> None:
        self.entries = sorted(entries, key=_rank)
        self.fuzzy = fuzzy
        self.by_code = {entry.code: entry for entry in self.entries}
        self.by_insee: dict[str, list[PlaceEntry]] = {}
        self.by_postcode: dict[str, list[PlaceEntry]] = {}
        names: dict[str, set[int]] = {}
        words: list[tuple[str, int]] = []
        for index, entry in enumerate(self.entries):
            self.by_insee.setdefault(entry.insee, []).append(entry)
            for postcode in entry.postcodes:
                self.by_postcode.setdefault(postcode, []).append(entry)
            key = place_key(entry.name)
            for variant in _variants(key):
                names.setdefault(variant, set()).add(index)
            parts = key.split()
            words += [(" ".join(parts[i:]), index) for i in range(1, len(parts))]
        self.exact = {key: tuple(sorted(ids)) for key, ids in names.items()}
        self.names = sorted(self.exact.items())
        self.name_keys = [key for key, _ in self.names]
        self.by_length: dict[int, list[int]] = {}  # name positions by key length
        for position, key in enumerate(self.name_keys):
            self.by_length.setdefault(len(key), []).append(position)
        self.words = sorted(set(words))
        self.postcodes = sorted(self.by_postcode)

    def lookup(self, code: str) -> PlaceEntry | None:
        """The place of a code (a suggestion chosen), if known."""
        return self.by_code.get(code)

    def suggest(self, query: str, limit: int = 8) -> list[PlaceEntry]:
        """The places a query may mean, best first (none under MIN_QUERY characters)."""
        text, department = _split_label(query)
        if len(text) < MIN_QUERY:
            return []
        found = self._codes(text) if _is_code(text) else self._names(text, limit)
        return [entry for entry, _ in found if not department or entry.department == department][
            :limit
        ]

    def resolve(self, query: str) -> Resolution:
        """Which place a search typed as `query` should look around."""
        text, department = _split_label(query)
        if _POSTCODE.match(text) and text in self.by_postcode:
            return self._postcode(text)
        if _is_code(text):
            found = [entry for entry, _ in self._codes(text)]
            return _one(found[0]) if found else Resolution()
        return _decide(self._named(text, department))

    def _named(self, text: str, department: str) -> list[tuple[PlaceEntry, int]]:
        """Places by name, with their tier, in the département given if any."""
        key = place_key(text)
        same = [self.entries[i] for i in self.exact.get(key, ())]
        same = [e for e in same if not department or e.department == department]
        # A name typed in full beats one met without its article ("Vergné", "La Vergne").
        same = [e for e in same if place_key(e.name) == key] or same
        named = [(e, EXACT) for e in same] or self._names(text, 8)
        return [(e, tier) for e, tier in named if not department or e.department == department]

    def _postcode(self, postcode: str) -> Resolution:
        """The middle of the places a postcode serves (their arrondissements and communes)."""
        places = [e for e in self.by_postcode[postcode] if e.kind in ("commune", "arrondissement")]
        places = places or self.by_postcode[postcode]
        located = [e.point for e in places if e.point is not None]
        middle = (
            (sum(p[0] for p in located) / len(located), sum(p[1] for p in located) / len(located))
            if located
            else None
        )
        main = places[0]
        label = main.label if len(places) == 1 else f"code postal {postcode}"
        return Resolution(place=main, point=middle, label=label)

    def _codes(self, text: str) -> list[tuple[PlaceEntry, int]]:
        """Places of a postcode (or its start) or of an INSEE code."""
        text = text.upper().replace(" ", "")
        if _POSTCODE.match(text) or _POSTCODE_START.match(text):
            start = bisect_left(self.postcodes, text)
            codes = []
            for postcode in self.postcodes[start:]:
                if not postcode.startswith(text):
                    break
                codes.append(postcode)
            found = [entry for code in codes for entry in self.by_postcode[code]]
            if found:
                return [(entry, EXACT) for entry in sorted(set(found), key=_rank)]
        if _INSEE.match(text):
            return [(entry, EXACT) for entry in self.by_insee.get(text, [])]
        return []

    def _names(self, text: str, limit: int) -> list[tuple[PlaceEntry, int]]:
        """Places by name, tier by tier, each place once at its best tier."""
        key = place_key(text)
        if not key:
            return []
        tiers: dict[int, int] = {}
        start = bisect_left(self.name_keys, key)
        for name, ids in self.names[start:]:
            if not name.startswith(key):
                break
            for index in ids:
                tiers.setdefault(index, EXACT if name == key else START)
        start = bisect_left(self.words, (key, -1))
        for words, index in self.words[start:]:
            if not words.startswith(key):
                break
            tiers.setdefault(index, WORD)
        # Close names only when nothing begins like the query: a typo, not a shorter name.
        if not tiers and self.fuzzy is not None and len(key) >= 4:
            # A typo or two changes the length by two at most: only those names are scored.
            near = [p for n in range(len(key) - 2, len(key) + 3) for p in self.by_length.get(n, [])]
            for found, _score in self.fuzzy(key, [self.name_keys[p] for p in near], limit):
                for index in self.names[near[found]][1]:
                    tiers.setdefault(index, CLOSE)
        ranked = sorted(tiers.items(), key=lambda item: (item[1], item[0]))
        return [(self.entries[index], tier) for index, tier in ranked]


def _one(place: PlaceEntry) -> Resolution:
    """A query that means one place."""
    return Resolution(place=place, point=place.point, label=place.label)


def _decide(matches: list[tuple[PlaceEntry, int]]) -> Resolution:
    """One place when the best tier holds one name in one département (and is not a mere
    resemblance), else the choices: the homonyms of the name typed, or the close names."""
    if not matches:
        return Resolution()
    tier = matches[0][1]
    best = [entry for entry, found in matches if found == tier]
    if tier == EXACT and len({(e.department, place_key(e.name)) for e in best}) == 1:
        best = best[:1]  # one name in one département: the commune, before its old village
    if len(best) == 1 and tier != CLOSE:
        return _one(best[0])
    exact = tier == EXACT
    return Resolution(choices=best if exact else [e for e, _ in matches], exact=exact)


def _rank(entry: PlaceEntry) -> tuple[int, int, str, str]:
    """Communes first, the most populous first, then by name and code."""
    return KIND_ORDER.get(entry.kind, 9), -entry.population, entry.name, entry.code


def _is_code(text: str) -> bool:
    """Whether a query is a postcode (or its start) or an INSEE code rather than a name."""
    compact = text.upper().replace(" ", "")
    return any(pattern.match(compact) for pattern in (_POSTCODE, _POSTCODE_START, _INSEE))


def _split_label(query: str) -> tuple[str, str]:
    """`Orléans (45)` → (`Orléans`, `45`); anything else → (query, ``)."""
    query = " ".join(query.split())
    label = _LABEL.match(query)
    if label:
        return label.group("name"), label.group("department").upper()
    return query, ""

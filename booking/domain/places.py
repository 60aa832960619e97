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
from dataclasses import dataclass, field, replace
from typing import Final

from booking.domain.geo import Point
from booking.domain.place_query import read_place
from booking.domain.text import fold
from booking.domain.words import Text

KIND_ORDER: Final = {"commune": 0, "arrondissement": 1, "deleguee": 2, "associee": 3}
ARTICLES: Final = ("le ", "la ", "les ", "l ")
_ABBREVIATIONS: Final = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_LABEL: Final = re.compile(r"^(?P<name>.*?)\s*\((?P<department>\d{2,3}|2[AaBb])\)\s*$")
_POSTCODE: Final = re.compile(r"^\d{5}$")
_POSTCODE_START: Final = re.compile(r"^\d{2,4}$")
_INSEE: Final = re.compile(r"^(?:\d{2}|2[AaBb])\d{3}$")
MIN_QUERY: Final = 2  # characters before suggestions start
TYPO_LETTERS: Final = 7  # a name this long may be guessed from one typo
EXACT, START, WORD, CLOSE, FARTHER = range(5)

# (query, keys, how many) → [(index of the key, score)], best first; the score is one minus
# the edits per letter of the query (1 − edits / len(query)), 0.75 at the least.
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
    note: str = ""  # what did not match, when a name and a postcode do not go together


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
        self.by_department: dict[str, list[PlaceEntry]] = {}  # communes only
        self.by_postcode: dict[str, list[PlaceEntry]] = {}
        names: dict[str, set[int]] = {}
        words: list[tuple[str, int]] = []
        for index, entry in enumerate(self.entries):
            self.by_insee.setdefault(entry.insee, []).append(entry)
            if entry.kind == "commune":
                self.by_department.setdefault(entry.department, []).append(entry)
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
        self.keys_by_length = {
            length: [self.name_keys[p] for p in positions]
            for length, positions in self.by_length.items()
        }
        self.words = sorted(set(words))
        self.postcodes = sorted(self.by_postcode)

    def lookup(self, code: str) -> PlaceEntry | None:
        """The place of a code (a suggestion chosen), if known."""
        return self.by_code.get(code)

    def suggest(self, query: str, limit: int = 8) -> list[PlaceEntry]:
        """The places a query may mean, best first (none under MIN_QUERY characters); a
        postcode typed beside a name keeps that postcode's places."""
        text, department = _split_label(query)
        typed = read_place(text)
        text = typed.name or typed.postcode
        if len(text) < MIN_QUERY:
            return []
        found = self._codes(text) if _is_code(text) else self._names(text, limit)
        if typed.name and typed.postcode:
            found = [(e, tier) for e, tier in found if typed.postcode in e.postcodes] or found
        if typed.departments:
            found = [(e, t) for e, t in found if e.department in typed.departments] or found
        return [entry for entry, _ in found if not department or entry.department == department][
            :limit
        ]

    def resolve(self, query: str) -> Resolution:
        """Which place a search typed as `query` should look around."""
        text, department = _split_label(query)
        typed = read_place(text)
        if typed.postcode and typed.name:
            return self._with_postcode(typed.name, typed.postcode)
        text = typed.postcode or typed.name
        if _POSTCODE.match(text) and text in self.by_postcode:
            return self._postcode(text)
        if _is_code(text):
            found = [entry for entry, _ in self._codes(text)]
            return _one(found[0]) if found else Resolution()
        if department or not typed.departments:
            return _decide(self._named(text, department))
        # A département typed beside the name (`Boisset 15`) chooses among its homonyms,
        # and is left aside when it holds no such name (`Paris 25`).
        named = self._named(text, "")
        inside = [(entry, tier) for entry, tier in named if entry.department in typed.departments]
        return _decide(inside or named)

    def _with_postcode(self, name: str, postcode: str) -> Resolution:
        """A name and a postcode: the postcode chooses among homonyms; a pair that does not
        go together says which part did not match."""
        places = self.by_postcode.get(postcode, [])
        if places:
            here = self._among(name, places)
            if here is not None:
                return _one(here)
            around = self._postcode(postcode)
            note = Text(
                "« %(name)s » n'est pas une commune du code postal %(postcode)s.",
                name=name,
                postcode=postcode,
            )
            return Resolution(around.place, around.point, around.label, note=note)
        # A postcode nobody lives at (a CEDEX code, a typo): its département still chooses.
        department = postcode_department(postcode)
        named = self._named(name, "")
        inside = [(entry, tier) for entry, tier in named if entry.department in department]
        found = _decide(inside or named)
        if found.place is None and not found.choices:
            note = Text(
                "Ni « %(name)s » ni le code postal %(postcode)s ne désignent une commune connue.",
                name=name,
                postcode=postcode,
            )
            return Resolution(note=note)
        if inside:
            return found
        note = Text(
            "Le code postal %(postcode)s n'est pas celui de « %(name)s ».",
            postcode=postcode,
            name=name,
        )
        return replace(found, note=note)

    def _among(self, name: str, places: Sequence[PlaceEntry]) -> PlaceEntry | None:
        """The place of a postcode that a name means: the same name (with or without its
        article), a name it begins, or the closest name."""
        key = place_key(name)
        keys = [place_key(entry.name) for entry in places]
        wards = [e for e, k in zip(places, keys, strict=True) if e.kind == "arrondissement"]
        wards = [e for e in wards if place_key(e.name).startswith(key + " ")]
        if len(wards) == 1:  # `13013 Marseille`: the arrondissement, not the town hall
            return wards[0]
        for test in (lambda k: key in _variants(k), lambda k: k.startswith(key)):
            same = [entry for entry, k in zip(places, keys, strict=True) if test(k)]
            if same:
                return same[0]
        if self.fuzzy is not None and key:
            close = self.fuzzy(key, keys, 1)
            if close:
                return places[close[0][0]]
        return None

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
        label = (
            main.label if len(places) == 1 else Text("code postal %(postcode)s", postcode=postcode)
        )
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
            close = self._close(key, limit)
            best = close[0][1] if close else 0.0
            # One edit in a name of seven letters or more may be taken alone (when no other
            # name is as close); anything farther is only offered.
            one_typo = len(key.replace(" ", "")) >= TYPO_LETTERS and best >= 1 - 1.01 / len(key)
            for position, score in close:  # the closest names, then the others
                for index in self.names[position][1]:
                    tiers.setdefault(index, CLOSE if one_typo and score >= best else FARTHER)
        ranked = sorted(tiers.items(), key=lambda item: (item[1], item[0]))
        return [(self.entries[index], tier) for index, tier in ranked]

    def _close(self, key: str, limit: int) -> list[tuple[int, float]]:
        """(name position, score) of the names closest to a key, best first. A typo or two
        changes the length by two at most: only names of those lengths are scored."""
        assert self.fuzzy is not None
        scored: list[tuple[int, float]] = []
        for length in range(len(key) - 2, len(key) + 3):
            positions = self.by_length.get(length, [])
            found = self.fuzzy(key, self.keys_by_length.get(length, []), limit)
            scored += [(positions[i], score) for i, score in found]
        return sorted(scored, key=lambda item: (-item[1], item[0]))[:limit]


def postcode_department(postcode: str) -> tuple[str, ...]:
    """The départements a postcode may belong to (`20…`: Corsica's two; `97…`: three digits)."""
    if postcode.startswith("20"):
        return ("2A", "2B")
    if postcode.startswith(("97", "98")):
        return (postcode[:3],)
    return (postcode[:2],)


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
    if len({(e.department, place_key(e.name)) for e in best}) == 1:
        best = best[:1]  # one name in one département: the commune, before its old village
    if len(best) == 1 and tier != FARTHER:
        return _one(best[0])  # a typo too, when no other name is as close
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

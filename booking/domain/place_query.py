"""How people write a place (SPEC §9), read into its parts before it is looked up.

| typed                                   | name                     | postcode |
|-----------------------------------------|--------------------------|----------|
| `45000 Orléans`, `Orléans 45000`        | Orléans                  | 45000    |
| `12 rue de la République 45000 Orléans` | Orléans                  | 45000    |
| `ORLEANS CEDEX 1`, `45077 ORLEANS CEDEX 2` | ORLEANS               | 45077    |
| `CHAUX (LA)`, `ABERGEMENT (L')`         | LA CHAUX, L'ABERGEMENT   |          |
| `PARIS 15`, `Lyon 3e`, `MARSEILLE 13EME` | Paris 15e Arrondissement |         |

A postcode is five digits standing alone; in a postal address the commune follows it, so
the words after it are the name when there are any, else the words before it (`Boisset
15600`). A CEDEX mark and its number are dropped: the postcode (a CEDEX code often belongs to
no commune) and the name still say where. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

_CEDEX: Final = re.compile(r"\bcedex\b(?:\s*\d{1,2}\b)?", re.IGNORECASE)
_POSTCODE: Final = re.compile(r"(?<!\w)(\d{5})(?!\w)")
# The country after a place, but not the end of `Fort-de-France`.
_COUNTRY: Final = re.compile(r"(?<![\s-]de)(?<!d')\s*[,\s]\s*france\s*$", re.IGNORECASE)
_SPLIT_POSTCODE: Final = re.compile(r"(?<![\d\w])(\d{2}) (\d{3})(?![\d\w])")  # `44 000`
_STREET: Final = re.compile(
    r"^\d+\S*\s+(?:rue|avenue|av|bd|boulevard|chemin|place|pl|allee|allée|impasse|route|"
    r"quai|cours|lieu-dit|lotissement|residence|résidence|square|voie)\b",
    re.IGNORECASE,
)
# A département beside a name (`45 Orléans`, `Boisset 15`, `Saint-Denis La Réunion`).
_DEPARTMENT_BESIDE: Final = re.compile(
    r"^(?:(?P<before>\d{2}|2[AB]|97[1-8]|98[6-8])\s+(?P<name>\D.*)"
    r"|(?P<named>.*\D)\s+(?P<after>\d{2}|2[AB]|97[1-8]|98[6-8]))$",
    re.IGNORECASE,
)
TERRITORIES: Final = {  # as people name them after a commune
    "guadeloupe": "971",
    "martinique": "972",
    "guyane": "973",
    "la reunion": "974",
    "reunion": "974",
    "mayotte": "976",
    "polynesie": "987",
    "polynesie francaise": "987",
    "nouvelle caledonie": "988",
    "corse": "2A 2B",
}
_NUMERALS: Final = "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX"
_ROMAN: Final = {numeral: number for number, numeral in enumerate(_NUMERALS.split(" "), 1)}
_ARTICLE_AFTER: Final = re.compile(
    r"^(?P<name>.+?)\s*\(\s*(?P<article>les|la|le|l\s*['’]?)\s*\)$", re.IGNORECASE
)
_ARRONDISSEMENT: Final = re.compile(
    r"^(?P<city>paris|lyon|marseille)\s*[-\s]?\s*(?P<number>\d{1,2}|[ivx]{1,5})\s*"
    r"(?:e|er|re|eme|ème|è|°)?(?:\s+arr(?:ondissement|\.)?)?$",
    re.IGNORECASE,
)
ARRONDISSEMENTS: Final = {"paris": 20, "lyon": 9, "marseille": 16}
_EDGES: Final = " \t,;:.-/"


@dataclass(frozen=True)
class TypedPlace:
    """A query's parts: a name, a postcode, the départements it names (each may be empty)."""

    name: str
    postcode: str = ""
    departments: tuple[str, ...] = ()


def read_place(query: str) -> TypedPlace:
    """The name and the postcode a query holds, in whatever order and form it gives them."""
    text = unicodedata.normalize("NFC", query)  # `é` as one character, as _fold counts
    text = _SPLIT_POSTCODE.sub(r"\1\2", " ".join(_CEDEX.sub(" ", text).split()))
    text = _COUNTRY.sub("", text)
    said = _as_people_say(text.strip(_EDGES))
    if said != text.strip(_EDGES) and "(" not in text:
        return TypedPlace(said)  # an arrondissement (`PARIS 15`), not a département
    has_postcode = bool(_POSTCODE.search(text))
    street = bool(_STREET.match(text))  # `12 rue de la République Orléans`: not the Aveyron
    beside = None if has_postcode or street else _DEPARTMENT_BESIDE.match(text.strip(_EDGES))
    if beside:
        name = beside.group("name") or beside.group("named")
        code = (beside.group("before") or beside.group("after")).upper()
        return TypedPlace(_as_people_say(name.strip(_EDGES)), "", (code,))
    for territory, codes in {} if has_postcode else TERRITORIES.items():
        head, _, tail = _fold(text).rpartition(" " + territory)
        if head.strip(" ,") not in ("", "la", "le", "les", "l", "de", "en") and not tail:
            name = text[: len(text) - len(territory) - 1].strip(_EDGES)
            return TypedPlace(_as_people_say(name), "", tuple(codes.split()))
    postcode = ""
    found = list(_POSTCODE.finditer(text))
    if found and text.strip(_EDGES) != found[-1].group(1):
        last = found[-1]
        postcode = last.group(1)
        after = text[last.end() :].strip(_EDGES)
        after = "" if _fold(after) == "france" else after  # `45000 ORLEANS`… `45000 FRANCE`
        before = text[: last.start()].strip(_EDGES)
        text = after if _has_letters(after) else _commune_of(before)
    elif found:
        return TypedPlace("", found[-1].group(1))
    return TypedPlace(_as_people_say(text.strip(_EDGES)), postcode)


def _commune_of(before: str) -> str:
    """What precedes a postcode: the commune, unless the query is an address with the
    commune last, in which case its last comma-separated part."""
    parts = [part.strip(_EDGES) for part in before.split(",")]
    last = next((part for part in reversed(parts) if _has_letters(part)), "")
    return "" if last[:1].isdigit() else last  # `12 rue X, 45000`: a street, no commune


def _as_people_say(name: str) -> str:
    """La Poste's article after the name put back in front (`CHAUX (LA)` → `LA CHAUX`,
    `ABERGEMENT (L')` → `L'ABERGEMENT`); an arrondissement as the gazetteer names it."""
    article = _ARTICLE_AFTER.match(name)
    if article:
        word = article.group("article").replace(" ", "")
        if word.lower().startswith("l") and len(word.rstrip("'’")) == 1:
            return f"{word.rstrip('’').rstrip(chr(39))}'{article.group('name')}"
        return f"{word} {article.group('name')}"
    arrondissement = _ARRONDISSEMENT.match(name)
    if arrondissement:
        city = arrondissement.group("city").lower()
        written = arrondissement.group("number")
        number = int(written) if written.isdigit() else _ROMAN.get(written.upper(), 0)
        if 1 <= number <= ARRONDISSEMENTS[city]:
            return f"{city.capitalize()} {number}{'er' if number == 1 else 'e'} Arrondissement"
    return name


def _fold(text: str) -> str:
    """Lower case, no accents, hyphens as spaces: `La Réunion` → `la reunion` (same length
    as the text for the names above, whose letters decompose into one letter each)."""
    bare = unicodedata.normalize("NFKD", text)
    letters = "".join(char for char in bare if not unicodedata.combining(char))
    return letters.lower().replace("-", " ")


def _has_letters(text: str) -> bool:
    """Whether a piece of text holds a word (not only numbers and signs)."""
    return any(char.isalpha() for char in text)

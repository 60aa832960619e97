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
from dataclasses import dataclass
from typing import Final

_CEDEX: Final = re.compile(r"\bcedex\b(?:\s*\d{1,2}\b)?", re.IGNORECASE)
_POSTCODE: Final = re.compile(r"(?<![\w-])(\d{5})(?![\w-])")
_ARTICLE_AFTER: Final = re.compile(
    r"^(?P<name>.+?)\s*\(\s*(?P<article>les|la|le|l\s*['’]?)\s*\)$", re.IGNORECASE
)
_ARRONDISSEMENT: Final = re.compile(
    r"^(?P<city>paris|lyon|marseille)\s*[-\s]?\s*(?P<number>\d{1,2})\s*"
    r"(?:e|er|re|eme|ème|è|°)?(?:\s+arr(?:ondissement|\.)?)?$",
    re.IGNORECASE,
)
ARRONDISSEMENTS: Final = {"paris": 20, "lyon": 9, "marseille": 16}
_EDGES: Final = " \t,;:.-/"


@dataclass(frozen=True)
class TypedPlace:
    """A query's parts: a name (may be empty) and a postcode (may be empty)."""

    name: str
    postcode: str = ""


def read_place(query: str) -> TypedPlace:
    """The name and the postcode a query holds, in whatever order and form it gives them."""
    text = " ".join(_CEDEX.sub(" ", query).split())
    postcode = ""
    found = list(_POSTCODE.finditer(text))
    if found and text.strip(_EDGES) != found[-1].group(1):
        last = found[-1]
        postcode = last.group(1)
        after = text[last.end() :].strip(_EDGES)
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
        number = int(arrondissement.group("number"))
        if 1 <= number <= ARRONDISSEMENTS[city]:
            return f"{city.capitalize()} {number}{'er' if number == 1 else 'e'} Arrondissement"
    return name


def _has_letters(text: str) -> bool:
    """Whether a piece of text holds a word (not only numbers and signs)."""
    return any(char.isalpha() for char in text)

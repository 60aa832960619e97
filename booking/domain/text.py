"""Text as people type it: accents, case, hyphens and apostrophes do not matter in a search."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-'’`_.,;:/()]+")


def fold(text: str) -> str:
    """Lower-case, accent-free, words separated by one space: `Saint-Étienne` → `saint etienne`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare.casefold().replace("œ", "oe").replace("æ", "ae")).strip()


def search_words(query: str) -> list[str]:
    """The folded words of a query, longest first (the most selective filter goes first)."""
    return sorted(set(fold(query).split()), key=len, reverse=True)

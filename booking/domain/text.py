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


# Characters no person types: C0 controls but tab and line ends, DEL and C1 controls; and
# lone UTF-16 surrogates (JSON can carry them). All are refused at the edge
# (booking.web.edge). The patterns below leave the controls out; they say nothing of
# surrogates, which most regular-expression engines cannot even write.
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
ODD_CHARACTERS = re.compile(f"[{CONTROLS}\ud800-\udfff]")
TEXT = f"[^{CONTROLS}]"  # one character a person may type (tab and line ends included)
NOT_SPACE = rf"[^\s{CONTROLS}]"  # a visible character
SPACE = rf"[^\S{CONTROLS}]"  # white space that is not a control character

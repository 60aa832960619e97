"""The texts of the data the service ships (reasons, the orienteur), for the catalogue.

`pybabel extract` calls `extract_json` (babel.cfg) on data/motifs.json and
data/orientation.json: every string under one of TEXT_KEYS is a French text that pages and
emails say through `booking.web.languages.say`; codes, numbers and addresses are not.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

TEXT_KEYS = frozenset({"label", "documents", "intro", "hint", "title", "text"})


def texts(data: Any, keys: frozenset[str] = TEXT_KEYS) -> Iterator[tuple[str, str]]:
    """`(key, text)` for every text of a JSON document, in document order."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in reversed(list(item.items())):
                if isinstance(value, str) and key in keys and value.strip():
                    pending.append((key, value))
                elif isinstance(value, dict | list):
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, tuple):
            yield item


def extract_json(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extractor interface: `(line, function, message, comments)`."""
    for key, text in texts(json.loads(fileobj.read().decode("utf-8"))):
        yield 0, "", text, [f"data: {key}"]

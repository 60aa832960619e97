"""The edge: what reaches the service from outside is checked here before any view runs.

- A body may weigh at most MAX_CONTENT_LENGTH (64 kB by default, a booking is under 2 kB;
  Flask answers 413 beyond, see booking.config).
- A JSON body may nest at most MAX_JSON_DEPTH levels → refused like any unreadable JSON.
- Text may not hold NUL or other control characters (tab and line ends excepted), nor lone
  UTF-16 surrogates, in the path, the query string, a form or a JSON body → 400. PostgreSQL
  refuses NUL in text and no person types them; refusing at the edge keeps them out of the
  database, the logs and the emails alike.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from booking.domain.text import ODD_CHARACTERS
from booking.domain.words import N_
from booking.errors import ServiceError

MAX_JSON_DEPTH = 32


class OddText(ServiceError):
    """Characters no person types: refused, whatever the field."""

    status, code = 400, "invalid_characters"
    default_message = N_(
        "La demande contient des caractères non autorisés (caractère nul ou de contrôle)."
    )


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than MAX_JSON_DEPTH."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse, or ValueError (Flask answers it like unreadable JSON)."""
        try:
            data = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON trop imbriqué") from None
        if _depth(data) > MAX_JSON_DEPTH:
            raise ValueError("JSON trop imbriqué")
        return data


def _depth(data: Any) -> int:
    """How deep a parsed JSON document nests (iteratively: no recursion to exhaust)."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                values = item.values() if isinstance(item, dict) else item
                pending.extend((value, level + 1) for value in values)
    return deepest


def _texts(data: Any) -> list[str]:
    """Every string of a parsed JSON document, keys included."""
    found, pending = [], [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(str(key) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def refuse_odd_text() -> None:
    """Before every view: no odd character anywhere a client can put text."""
    environ = request.environ
    texts = [request.path]
    if environ.get("QUERY_STRING"):
        texts += [*request.args.keys(), *request.args.values()]
    if environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING"):  # a body
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            texts += [*request.form.keys(), *request.form.values()]
        elif request.is_json:
            texts += _texts(request.get_json(silent=True))
    if any(ODD_CHARACTERS.search(text) for text in texts):
        raise OddText()


def init_app(app: Flask) -> None:
    """Bound the body and its JSON; check text before the views."""
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_odd_text)

"""Words a citizen reads, written in French and said in their language at the edge (SPEC §13).

Pure: no framework import, so that the domain, the services, the command line and the job
runner mark their texts the same way.

- `N_("…")` marks a constant text for the catalogue and returns it unchanged.
- `Text("… %(count)d …", count=3)` is the French sentence (a `str`: logs, the command line
  and French pages use it as it is) that also keeps its template and values, so that the web
  layer can say it in the request's language (`booking.web.languages.say`).
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("fr", "en")  # French is the source language and the default.
DEFAULT_LANGUAGE = "fr"


def N_(text: str) -> str:
    """Mark a text for the catalogue; it is translated where it is shown."""
    return text


class Text(str):
    """A French sentence with values, that another language can say too."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Text:
        """`Text("%(count)d places", count=3)` is `"3 places"` and remembers both parts."""
        made = super().__new__(cls, template % values if values else template)
        made.template = template
        made.values = values
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles keep the template and the values."""
        return (_rebuild, (self.template, self.values))


def _rebuild(template: str, values: dict[str, Any]) -> Text:
    return Text(template, **values)


def normal_language(value: str | None) -> str | None:
    """`en`, `EN`, `en-GB` → `en`; anything the service does not speak → None."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None

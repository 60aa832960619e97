"""Reasons for a visit (motifs): data loaded from a file, read by everyone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from booking.domain.capacity import MODES, ON_SITE
from booking.domain.predeclaration import DefinitionError, read_form
from booking.errors import ReasonNotFound
from booking.extensions import db
from booking.models import Reason
from booking.paths import DATA

DEFAULT_REASONS = DATA / "motifs.json"


class ReasonsFileError(ValueError):
    """The reasons' file defines something wrong; nothing was loaded."""


def load_reasons(path: Path = DEFAULT_REASONS) -> int:
    """Create or update the reasons listed in a JSON file; return how many it lists."""
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    forms = {}
    for entry in entries:  # every form and list of modes checked before anything is written
        try:
            read_form(entry.get("pre_declaration"))
            _modes(entry)
        except DefinitionError as error:
            raise ReasonsFileError(f"{path.name}, motif {entry.get('code')} : {error}") from None
        forms[entry["code"]] = entry.get("pre_declaration")
    existing = {reason.code: reason for reason in db.session.scalars(select(Reason))}
    for position, entry in enumerate(entries):
        reason = existing.get(entry["code"]) or Reason(code=entry["code"])
        reason.label = entry["label"]
        reason.duration_minutes = int(entry["duration_minutes"])
        reason.discreet = bool(entry.get("discreet", False))
        reason.documents = entry.get("documents", "")
        form = forms[entry["code"]]
        reason.pre_declaration = json.dumps(form, ensure_ascii=False) if form else ""
        reason.modes = ",".join(_modes(entry))
        reason.position = position
        reason.active = True
        db.session.add(reason)
    db.session.commit()
    return len(entries)


def _modes(entry: dict[str, Any]) -> list[str]:
    """A reason's modes, on site by default, in the order of MODES; DefinitionError if the
    list names something else or is empty."""
    given = entry.get("modes", [ON_SITE])
    if not isinstance(given, list) or not given or not set(given) <= set(MODES):
        raise DefinitionError(f"modes : une liste non vide parmi {', '.join(MODES)}")
    return [mode for mode in MODES if mode in given]


def list_reasons() -> list[Reason]:
    """Active reasons in their display order."""
    return list(
        db.session.scalars(select(Reason).where(Reason.active.is_(True)).order_by(Reason.position))
    )


def get_reason(code: str) -> Reason:
    """The active reason with this code: the views' resolver."""
    reason = db.session.get(Reason, code) if code else None
    if reason is None or not reason.active:
        raise ReasonNotFound()
    return reason


@dataclass(frozen=True)
class ReasonTerms:
    """What the slots of a reason depend on: its code and its duration."""

    code: str
    duration_minutes: int

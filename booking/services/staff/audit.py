"""The audit log: every staff change to a booking or a unit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from booking import clock
from booking.extensions import db
from booking.models import AuditEntry, StaffUser, Unit

RECENT_ENTRIES = 500


def record(
    actor: StaffUser | None,
    action: str,
    unit: Unit | None,
    target: str = "",
    before: Any = None,
    after: Any = None,
    who: str = "ligne de commande",
) -> None:
    """Add an entry to the caller's transaction (it commits with the change it describes);
    `who` names the author when no staff account acted (the command line, a link)."""
    db.session.add(
        AuditEntry(
            at=clock.now(),
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else who,
            unit_id=unit.id if unit else None,
            action=action,
            target=target[:100],  # the column's size: a long partner name is cut, not fatal
            before=_json(before),
            after=_json(after),
        )
    )


def _json(value: Any) -> str:
    """Compact, readable JSON (empty when there is nothing to say)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def recent_entries(limit: int = RECENT_ENTRIES) -> list[tuple[AuditEntry, Unit | None]]:
    """The latest entries, newest first, each with the unit it concerns."""
    entries = list(
        db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    )
    unit_ids = {entry.unit_id for entry in entries if entry.unit_id is not None}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    return [(entry, units.get(entry.unit_id or 0)) for entry in entries]

"""Rendered answers of the slots endpoint, kept per process while nothing has changed.

An answer depends on the unit's bookings, closures, hours and desks, and on the time. The
database raises `units.changes` on any change to the first three (triggers, whatever code
writes them) and staff edits touch `units.updated_at`; the time is taken to the minute. So
one indexed row read tells whether a kept answer still holds. That read is made at most
once a second per answer, and a process that commits a write forgets its answers at once:
another process may show a just-taken slot for up to a second. Both are harmless: booking
re-checks everything, exactly, and the database refuses what does not fit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from booking.extensions import db
from booking.models import Unit

MAX_ANSWERS = 500  # per process; an answer weighs about 30 KB
REVALIDATE_SECONDS = 1.0
_lock = threading.Lock()


def cached_answer(
    public_id: str,
    motif: str,
    days: tuple[date | None, date | None],
    now: datetime,
    render: Callable[[], bytes],
) -> bytes:
    """The kept answer if the unit has not changed since, else `render()` (and keep it)."""
    key = (public_id, motif, days, now.replace(second=0, microsecond=0))
    answers: OrderedDict[Any, tuple[Any, float, bytes]]
    answers = current_app.extensions.setdefault("slot_answers", OrderedDict())
    with _lock:
        kept = answers.get(key)
        if kept is not None and time.monotonic() - kept[1] < REVALIDATE_SECONDS:
            answers.move_to_end(key)
            return kept[2]
    version = db.session.execute(
        select(Unit.changes, Unit.updated_at, Unit.desks).where(
            Unit.public_id == public_id, Unit.active.is_(True)
        )
    ).first()
    if version is None:
        return render()  # unknown unit: let the service say so
    with _lock:
        if kept is not None and kept[0] == tuple(version):
            answers[key] = (kept[0], time.monotonic(), kept[2])
            answers.move_to_end(key)
            return kept[2]
    body = render()
    with _lock:
        answers[key] = (tuple(version), time.monotonic(), body)
        answers.move_to_end(key)
        while len(answers) > MAX_ANSWERS:
            answers.popitem(last=False)
    return body


@event.listens_for(Session, "after_flush")
def _wrote(session: Session, _context: Any) -> None:
    """Remember that the transaction wrote through the ORM."""
    session.info["wrote"] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """A commit that wrote anything empties this process's kept answers."""
    if session.info.pop("wrote", False) and has_app_context():
        with _lock:
            current_app.extensions.get("slot_answers", OrderedDict()).clear()

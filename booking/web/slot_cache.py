"""Rendered answers of the slots endpoint, kept per process while nothing has changed.

An answer depends on the unit's bookings, closures, hours and desks, and on the time. The
database raises `units.changes` on any change to the first three (triggers, whatever code
writes them) and staff edits touch `units.updated_at`; the time is taken to the minute. So
one indexed row read tells whether a kept answer still holds. A slot shown up to a minute
past its booking notice is harmless: booking it re-checks everything, exactly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from booking.extensions import db
from booking.models import Unit

MAX_ANSWERS = 500  # per process; an answer weighs about 30 KB
_lock = threading.Lock()


def cached_answer(
    public_id: str,
    motif: str,
    days: tuple[date | None, date | None],
    now: datetime,
    render: Callable[[], bytes],
) -> bytes:
    """The kept answer if the unit has not changed since, else `render()` (and keep it)."""
    version = db.session.execute(
        select(Unit.changes, Unit.updated_at, Unit.desks).where(
            Unit.public_id == public_id, Unit.active.is_(True)
        )
    ).first()
    if version is None:
        return render()  # unknown unit: let the service say so
    key = (public_id, motif, days, now.replace(second=0, microsecond=0))
    answers: OrderedDict[Any, tuple[Any, bytes]]
    answers = current_app.extensions.setdefault("slot_answers", OrderedDict())
    with _lock:
        kept = answers.get(key)
        if kept is not None and kept[0] == tuple(version):
            answers.move_to_end(key)
            return kept[1]
    body = render()
    with _lock:
        answers[key] = (tuple(version), body)
        answers.move_to_end(key)
        while len(answers) > MAX_ANSWERS:
            answers.popitem(last=False)
    return body

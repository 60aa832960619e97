"""Rendered answers of the slots endpoint, kept per process while nothing has changed.

An answer depends on the unit's bookings, closures, hours, desks and lines, and on the time. The
database raises `units.changes` on any change to the first three (triggers, whatever code
writes them) and staff edits touch `units.updated_at`; the time is taken to the minute. So
one indexed row read tells whether a kept answer still holds. That read is made at most
once a second per answer, and a process that commits a write forgets at once the answers
of the units it touched: another process may show a just-taken slot for up to a second.
Both are harmless: booking re-checks everything, exactly, and the database refuses what
does not fit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.session import ORMExecuteState

from booking.database import read_alone
from booking.extensions import db
from booking.models import Booking, Closure, OpeningRange, Unit

MAX_ANSWERS = 500  # per process; an answer weighs about 30 KB
REVALIDATE_SECONDS = 1.0
EVERY_UNIT = -1  # a write whose units are not known (a bulk statement): forget everything
SLOT_TABLES = (Booking, Closure, OpeningRange, Unit)  # what an answer depends on


class SlotAnswers:
    """The kept answers of one application in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # key → (unit id, version, last checked, body)
        self.answers: OrderedDict[Hashable, tuple[int, tuple[Any, ...], float, bytes]]
        self.answers = OrderedDict()

    def kept(self, key: Hashable, fresh_enough: bool) -> tuple[int, tuple[Any, ...], bytes] | None:
        """A kept answer (checked within the last second if `fresh_enough`)."""
        with self.lock:
            entry = self.answers.get(key)
            if entry is None:
                return None
            if fresh_enough and time.monotonic() - entry[2] >= REVALIDATE_SECONDS:
                return None
            self.answers.move_to_end(key)
            return entry[0], entry[1], entry[3]

    def keep(self, key: Hashable, unit_id: int, version: tuple[Any, ...], body: bytes) -> None:
        """Remember an answer checked now."""
        with self.lock:
            self.answers[key] = (unit_id, version, time.monotonic(), body)
            self.answers.move_to_end(key)
            while len(self.answers) > MAX_ANSWERS:
                self.answers.popitem(last=False)

    def forget(self, unit_ids: set[int]) -> None:
        """Drop the answers of these units (of every unit with EVERY_UNIT)."""
        with self.lock:
            if EVERY_UNIT in unit_ids:
                self.answers.clear()
                return
            for key in [k for k, entry in self.answers.items() if entry[0] in unit_ids]:
                del self.answers[key]


_unit = Unit.__table__.c
# What tells whether a kept answer still holds: built once, run on every answer kept.
_VERSION = select(_unit.id, _unit.changes, _unit.updated_at, _unit.desks, _unit.remote_lines).where(
    _unit.public_id == bindparam("public_id"), _unit.active.is_(True)
)


def cached_answer(
    public_id: str,
    motif: str,
    days: tuple[date | None, date | None],
    now: datetime,
    render: Callable[[], tuple[int, tuple[Any, ...], bytes]],
    mode: str = "on_site",
) -> bytes:
    """The kept answer if the unit has not changed since, else `render()`, which reads the
    unit with its version and returns (unit id, version, body): kept until the unit changes.

    A unit and dates never asked cost one statement (the render's); a kept answer older
    than a second costs the version's read, and the render's only if the unit changed."""
    answers: SlotAnswers = current_app.extensions["slot_answers"]
    key = (public_id, motif, mode, days, now.replace(second=0, microsecond=0))
    recent = answers.kept(key, fresh_enough=True)
    if recent is not None:
        return recent[2]
    kept = answers.kept(key, fresh_enough=False)
    if kept is not None:
        rows = read_alone(_VERSION, {"public_id": public_id})
        row = rows[0] if rows else None
        if row is not None and int(row[0]) == kept[0] and tuple(row[1:]) == kept[1]:
            answers.keep(key, kept[0], kept[1], kept[2])
            return kept[2]
    unit_id, version, body = render()
    answers.keep(key, unit_id, version, body)
    return body


def touching(unit_id: int) -> None:
    """A write made without the ORM's flush (a Core INSERT) changes this unit's slots: its
    answers are forgotten when the transaction commits."""
    db.session.info.setdefault("touched_units", set()).add(unit_id)


def _touched(session: Session, _flush: UOWTransaction) -> None:
    """Note the units whose slots the flushed objects decide."""
    touched = session.info.setdefault("touched_units", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, Unit):
            touched.add(item.id)
        elif isinstance(item, Booking | Closure | OpeningRange):
            touched.add(item.unit_id)


def _bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE or DELETE of what slots depend on may touch any unit (one of other
    tables, such as the requests already answered, touches none)."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ in SLOT_TABLES:
        state.session.info.setdefault("touched_units", set()).add(EVERY_UNIT)


def _committed(session: Session) -> None:
    """Forget the answers of the units this transaction changed."""
    touched = session.info.pop("touched_units", None)
    if touched and has_app_context():
        answers = current_app.extensions.get("slot_answers")
        if answers is not None:
            answers.forget(touched)


def _rolled_back(session: Session, _previous: object) -> None:
    """Nothing was changed after all."""
    session.info.pop("touched_units", None)


def init_app(app: Flask) -> None:
    """Give the app its store of answers and watch the session's writes."""
    app.extensions["slot_answers"] = SlotAnswers()
    for name, listener in (
        ("after_flush", _touched),
        ("do_orm_execute", _bulk),
        ("after_commit", _committed),
        ("after_soft_rollback", _rolled_back),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)

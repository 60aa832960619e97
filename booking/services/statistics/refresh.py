"""The job runner's refresh of the weekly figures (every five minutes).

A week is computed again while it may still change: until it ended SETTLE_DAYS ago, so each
source is read from the first week still open only. Once settled, a week's figures are kept
as they are: the purge of personal data deletes the emails and waiting-list entries of old
visits (PERSONAL_DATA_RETENTION_DAYS after them), and history must not shrink with it. A
source one of whose indicators has no figure yet (the first run, a new indicator) is read
whole, and fills the weeks that have none.

Everything is computed first, then written in one short transaction.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update

from booking import clock
from booking.database import begin_write
from booking.domain.figures import day_week, paris_day, week_start
from booking.extensions import db
from booking.models import StatisticsState, WeeklyFigure
from booking.models.statistics import FIGURE_ROW
from booking.services.statistics.family import Family
from booking.services.statistics.sources import SOURCES, Source

log = logging.getLogger(__name__)

SETTLE_DAYS = 35  # a visit is marked honoured or missed, an email sent or dropped, by then
Computed = list[tuple[Source, Family, dict[str, set[str]]]]  # what to write, by source


def refresh_figures(now: datetime | None = None) -> int:
    """Compute the weekly figures still open (and any missing) from their sources; return
    how many were written."""
    now = now or clock.now()
    began = time.perf_counter()
    computed = compute(now, first_open_week(now), stored_weeks())
    reckoned = time.perf_counter()
    begin_write()
    state = locked_state()
    written = _write(computed)
    state.computed_at = now
    db.session.commit()
    log.info(
        "statistics refreshed: %d figures written (computed in %.2f s, written in %.2f s)",
        written,
        reckoned - began,
        time.perf_counter() - reckoned,
    )
    return written


def first_open_week(now: datetime) -> str:
    """The first week that may still change: it ended less than SETTLE_DAYS ago (or less
    than half the retention of personal data, when that is shorter, so that a week settles
    before any of its sources is purged)."""
    retention = int(current_app.config["PERSONAL_DATA_RETENTION_DAYS"])
    settle = min(SETTLE_DAYS, retention // 2)
    return day_week(paris_day(now) - timedelta(days=settle))


def stored_weeks() -> defaultdict[str, set[str]]:
    """The weeks that have figures, by indicator."""
    stored: defaultdict[str, set[str]] = defaultdict(set)
    rows = db.session.execute(select(WeeklyFigure.indicator, WeeklyFigure.week).distinct())
    for indicator, week in rows:
        stored[indicator].add(week)
    return stored


def compute(now: datetime, open_from: str, stored: dict[str, set[str]]) -> Computed:
    """Each source's figures, and the weeks of each indicator to write: the open ones, and
    those without figures."""
    since = week_start(open_from)
    computed: Computed = []
    for source in SOURCES:
        whole = not all(stored.get(indicator) for indicator in source.indicators)
        family = source.compute(now, None if whole else since)
        writable = {
            indicator: {
                week
                for week in family.weeks
                if week >= open_from or week not in stored.get(indicator, set())
            }
            for indicator in source.indicators
        }
        computed.append((source, family, writable))
    return computed


def locked_state() -> StatisticsState:
    """The state's one row, locked until the transaction ends (PostgreSQL: two refreshes,
    the runner's and a command's, write one after the other), made if missing."""
    state = db.session.scalar(
        select(StatisticsState).where(StatisticsState.id == 1).with_for_update()
    )
    if state is None:
        state = StatisticsState(id=1)
        db.session.add(state)
    return state


Key = tuple[str, str, str]  # week, indicator, dimension
Value = tuple[float, bool]  # value, masked


def _write(computed: Computed) -> int:
    """Make the figures of the weeks to write what was computed, touching only the rows
    that changed (SQLite's write lock is held meanwhile, and most weeks are as they were);
    return how many figures were written."""
    new: dict[Key, Value] = {}
    pairs: set[tuple[str, str]] = set()  # (indicator, week) to write
    for _, family, writable in computed:
        pairs |= {(indicator, week) for indicator, weeks in writable.items() for week in weeks}
        new.update(
            ((f.week, f.indicator, f.dimension), (f.value, f.masked))
            for f in family.figures
            if f.week in writable[f.indicator]
        )
    old = _stored_rows(pairs)
    gone = [_key(key) for key in old if key not in new]
    updated = [
        {**_key(key), "v": value[0], "m": value[1]}
        for key, value in new.items()
        if key in old and old[key] != value
    ]
    added = [_row(key, value) for key, value in new.items() if key not in old]
    table = WeeklyFigure.__table__
    if gone:
        db.session.execute(delete(table).where(*_by_key(table)), gone)
    if updated:
        values = (
            update(table).where(*_by_key(table)).values(value=bindparam("v"), masked=bindparam("m"))
        )
        db.session.execute(values, updated)
    if added:
        db.session.execute(insert(table), added)
    return len(updated) + len(added)


def _stored_rows(pairs: set[tuple[str, str]]) -> dict[Key, Value]:
    """The stored figures of these (indicator, week) pairs (read under the lock)."""
    weeks = sorted({week for _, week in pairs})
    found: dict[Key, Value] = {}
    for start in range(0, len(weeks), 500):  # a bounded IN list
        rows = db.session.execute(
            select(*FIGURE_ROW).where(WeeklyFigure.week.in_(weeks[start : start + 500]))
        )
        for week, indicator, dimension, value, masked in rows:
            if (indicator, week) in pairs:
                found[week, indicator, dimension] = (value, masked)
    return found


def _by_key(table: Any) -> list[ColumnElement[bool]]:
    """A row of `weekly_figures` by its primary key, as bound parameters."""
    return [table.c[name] == bindparam(f"k_{name}") for name in ("week", "indicator", "dimension")]


def _key(key: Key) -> dict[str, str]:
    """The bound parameters of `_by_key` for one row."""
    return {"k_week": key[0], "k_indicator": key[1], "k_dimension": key[2]}


def _row(key: Key, value: Value) -> dict[str, Any]:
    """A row to insert."""
    return {
        "week": key[0],
        "indicator": key[1],
        "dimension": key[2],
        "value": value[0],
        "masked": value[1],
    }

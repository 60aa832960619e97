"""The two reads that feed the slot engine; nothing else reads what slots are made of.

1. `read_unit_days`: one active unit's values, hours and version, a reason's terms, and the
   closures and the seat-holding bookings of the unit that meet a span of instants, in one
   statement: a unit and dates not asked before cost one round trip (the slots endpoint's
   cold path, the unit page, a start checked before booking, the move page, the waiting
   list's matcher).
2. `read_busy`: the closures and the seat-holding bookings of many units, or of all, over a
   span, in one statement, for their first slots.

Which bookings hold a seat is the one capacity rule, in its SQL form
(`booking.domain.capacity.holds_sql`), as the database's triggers apply it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.types import TypeEngine

from booking.database import read_alone
from booking.domain.capacity import DESKS, ON_SITE, draws_on
from booking.domain.hours import Range, WeeklyHours
from booking.domain.instants import Interval
from booking.extensions import db
from booking.models import (
    Booking,
    Closure,
    OpeningRange,
    Reason,
    Unit,
    UTCDateTime,
    drawing_on,
    holding_seat,
)


@dataclass(frozen=True)
class UnitView:
    """What the slot engine needs of a unit, without the ORM (thousands load fast)."""

    id: int
    department: str
    desks: int  # the seats of the capacity asked: desks on site, remote lines otherwise
    hours: WeeklyHours
    later: tuple[date, WeeklyHours] | None = None  # hours set from a later date on


@dataclass
class Busy:
    """Closures and seat-holding bookings of some units, as intervals by unit id."""

    closures: dict[int, list[Interval]] = field(default_factory=dict)
    bookings: dict[int, list[Interval]] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitDays:
    """What one statement read of an active unit and a reason over a span of instants."""

    view: UnitView
    timezone: str
    version: tuple[Any, ...]  # what the slots endpoint's kept answers compare
    duration: int | None  # the reason's duration; None when no reason has the code
    reason_active: bool
    busy: Busy
    reason_modes: tuple[str, ...] = (ON_SITE,)  # the modes the reason allows


def read_unit_days(
    public_id: str,
    motif: str,
    span: tuple[datetime, datetime],
    now: datetime,
    moved: int = 0,
    mode: str = ON_SITE,
) -> UnitDays | None:
    """The active unit `public_id` with the reason `motif`, its closures and the bookings
    holding a seat at `now` of the capacity `mode` draws on that meet `span` (but the
    booking `moved`); None when no active unit has that identifier."""
    drawn = draws_on(mode)
    rows = read_alone(
        _UNIT_DAYS,
        {
            "public_id": public_id,
            "motif": motif,
            "start": span[0],
            "end": max(span),
            "now": now,
            "moved": moved,
            "capacity": drawn,
        },
    )
    unit = next((row for row in rows if row.kind == _UNIT), None)
    if unit is None:
        return None
    hours: dict[int, list[Range]] = {}
    later: dict[int, list[Range]] = {}
    later_from: date | None = None
    busy = Busy({unit.unit_id: []}, {unit.unit_id: []})
    for row in rows:
        if row.kind == _HOURS and row.valid_from is None:
            hours.setdefault(row.weekday, []).append((row.start_minute, row.end_minute))
        elif row.kind == _HOURS:
            later_from = row.valid_from
            later.setdefault(row.weekday, []).append((row.start_minute, row.end_minute))
        elif row.kind == _CLOSURE:
            busy.closures[unit.unit_id].append(Interval(row.since, row.until))
        elif row.kind == _BOOKING:
            busy.bookings[unit.unit_id].append(Interval(row.since, row.until))
    ordered = {day: sorted(ranges) for day, ranges in sorted(hours.items())}
    scheduled = None
    if later_from is not None:
        scheduled = (later_from, {day: sorted(ranges) for day, ranges in sorted(later.items())})
    seats = unit.desks if drawn == DESKS else unit.remote_lines
    return UnitDays(
        view=UnitView(unit.unit_id, unit.department, seats, ordered, scheduled),
        timezone=unit.timezone,
        version=(unit.changes, unit.updated_at, unit.desks, unit.remote_lines),
        duration=unit.duration,
        reason_active=bool(unit.reason_active),
        busy=busy,
        reason_modes=tuple((unit.reason_modes or ON_SITE).split(",")),
    )


def read_busy(
    unit_ids: Sequence[int] | None,
    span: tuple[datetime, datetime],
    now: datetime,
    mode: str = ON_SITE,
) -> Busy:
    """The closures and the bookings holding a seat at `now` of the capacity `mode` draws
    on meeting `span`, of some units (of every unit when `unit_ids` is None)."""
    params = {"start": span[0], "end": max(span), "now": now, "capacity": draws_on(mode)}
    if unit_ids is None:
        rows = db.session.execute(_EVERY_UNIT_BUSY, params).all()
    else:
        rows = db.session.execute(_SOME_UNITS_BUSY, {**params, "units": list(unit_ids)}).all()
    busy = Busy()
    for row in rows:
        found = busy.closures if row.closed else busy.bookings
        found.setdefault(row.unit_id, []).append(Interval(row.since, row.until))
    return busy


# --- The statements, built once ---------------------------------------------------------
#
# `read_unit_days` reads rows of four kinds on the same columns, each kind filling its own
# and leaving the others NULL: one row for the unit (joined with the reason), one per
# opening range, one per closure, one per booking.
_UNIT, _HOURS, _CLOSURE, _BOOKING = range(4)
_COLUMNS: dict[str, TypeEngine[Any]] = {
    "unit_id": Integer(),
    "desks": Integer(),
    "remote_lines": Integer(),
    "changes": Integer(),
    "department": String(),
    "timezone": String(),
    "updated_at": UTCDateTime(),
    "duration": Integer(),
    "reason_active": Boolean(),
    "reason_modes": String(),
    "weekday": Integer(),
    "start_minute": Integer(),
    "end_minute": Integer(),
    "valid_from": Date(),
    "since": UTCDateTime(),
    "until": UTCDateTime(),
}


def _rows_of(kind: int, **given: ColumnElement[Any]) -> Select[*tuple[Any, ...]]:
    """A select of one kind of row: the columns it gives, NULL (typed) for the others."""
    columns = [literal(kind).label("kind")]
    for name, type_ in _COLUMNS.items():
        value = given.pop(name, None)
        columns.append((value if value is not None else sql_cast(null(), type_)).label(name))
    if given:
        raise ValueError(f"unknown columns {sorted(given)}")
    return select(*columns)


_units, _ranges, _reasons = Unit.__table__.c, OpeningRange.__table__.c, Reason.__table__.c
_closures, _bookings = Closure.__table__.c, Booking.__table__.c
_start, _end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
_asked_unit = (_units.public_id == bindparam("public_id"), _units.active.is_(True))
_asked_id = select(_units.id).where(*_asked_unit).scalar_subquery()
_UNIT_DAYS = union_all(
    _rows_of(
        _UNIT,
        unit_id=_units.id,
        desks=_units.desks,
        remote_lines=_units.remote_lines,
        changes=_units.changes,
        department=_units.department,
        timezone=_units.timezone,
        updated_at=_units.updated_at,
        duration=_reasons.duration_minutes,
        reason_active=_reasons.active,
        reason_modes=_reasons.modes,
    )
    .select_from(Unit.__table__.outerjoin(Reason.__table__, _reasons.code == bindparam("motif")))
    .where(*_asked_unit),
    _rows_of(
        _HOURS,
        weekday=_ranges.weekday,
        start_minute=_ranges.start_minute,
        end_minute=_ranges.end_minute,
        valid_from=_ranges.valid_from,
    ).where(_ranges.unit_id == _asked_id),
    _rows_of(_CLOSURE, since=_closures.starts_at, until=_closures.ends_at).where(
        _closures.unit_id == _asked_id, _closures.ends_at > _start, _closures.starts_at < _end
    ),
    _rows_of(_BOOKING, since=_bookings.starts_at, until=_bookings.ends_at).where(
        _bookings.unit_id == _asked_id,
        _bookings.ends_at > _start,
        _bookings.starts_at < _end,
        holding_seat(),
        drawing_on(),
        _bookings.id != bindparam("moved"),
    ),
)


def _busy_statement(some_units: bool) -> Any:
    """The closures (closed = 1) and seat-holding bookings (0) meeting the span, of the
    units listed in the parameter `units` when `some_units`, else of every unit."""

    def of(column: Any) -> list[ColumnElement[bool]]:
        return [column.in_(bindparam("units", expanding=True))] if some_units else []

    return union_all(
        select(
            literal(1).label("closed"),
            _closures.unit_id.label("unit_id"),
            _closures.starts_at.label("since"),
            _closures.ends_at.label("until"),
        ).where(_closures.ends_at > _start, _closures.starts_at < _end, *of(_closures.unit_id)),
        select(literal(0), _bookings.unit_id, _bookings.starts_at, _bookings.ends_at).where(
            _bookings.ends_at > _start,
            _bookings.starts_at < _end,
            holding_seat(),
            drawing_on(),
            *of(_bookings.unit_id),
        ),
    )


_EVERY_UNIT_BUSY = _busy_statement(some_units=False)
_SOME_UNITS_BUSY = _busy_statement(some_units=True)

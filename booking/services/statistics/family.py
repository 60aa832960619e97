"""What every source of the weekly figures gives (a Family of Figures), and the one way the
database counts rows per week.

The database counts rows per UTC hour (`utc_hour`, the same text on SQLite and PostgreSQL)
and booking.domain.figures.HourWeeks turns the hours into Paris weeks: the database never
has to know Paris time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Float, String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from booking.domain.figures import HourWeeks
from booking.extensions import db

Column = ColumnElement[Any] | InstrumentedAttribute[Any]
Counts = Counter[tuple[str, str]]  # (week, dimension) → how many


class Figure(NamedTuple):
    """One row of `weekly_figures`."""

    week: str
    indicator: str
    dimension: str
    value: float
    masked: bool = False


@dataclass
class Family:
    """The figures a source gives, and every week it holds data for: a week it holds with
    no figure of one of its indicators has none any more."""

    weeks: set[str] = field(default_factory=set)
    figures: list[Figure] = field(default_factory=list)


def counted(counts: dict[str, Counts]) -> Family:
    """Counts of some indicators, by (week, dimension), as a family."""
    family = Family()
    for indicator, weeks in counts.items():
        family.weeks |= {week for week, _ in weeks}
        family.figures += [
            Figure(week, indicator, dimension, float(n)) for (week, dimension), n in weeks.items()
        ]
    return family


class utc_hour(FunctionElement[str]):
    """The UTC hour of an instant column, as `YYYY-MM-DD HH`, on either database."""

    type = String()
    inherit_cache = True


@compiles(utc_hour, "sqlite")
def _utc_hour_sqlite(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite stores the naive UTC instant as text: its first 13 characters."""
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"


@compiles(utc_hour, "postgresql")
def _utc_hour_postgresql(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    """The instant in UTC whatever the session's time zone."""
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


class seconds_between(FunctionElement[float]):
    """Seconds from the first instant column to the second, on either database."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    """Julian days apart, in seconds (to the millisecond)."""
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({second}) - julianday({first})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    """The interval's length in seconds."""
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({second} - {first}))::float8"


def weekly_counts(
    column: Column,
    *where: ColumnElement[bool],
    by: Column | None = None,
    since: datetime | None = None,
) -> Counts:
    """How many rows fall in each Paris week by an instant column (from `since`), split by
    the values of `by` if given ("" otherwise)."""
    hour = utc_hour(column)
    keys: tuple[Any, ...] = (hour,) if by is None else (hour, by)
    statement = select(*keys, func.count()).where(column.is_not(None), *where)
    if since is not None:
        statement = statement.where(column >= since)
    weeks = HourWeeks()
    counts: Counts = Counter()
    for row in db.session.execute(statement.group_by(*keys)):
        counts[weeks[row[0]], "" if by is None else str(row[1])] += row[-1]
    return counts

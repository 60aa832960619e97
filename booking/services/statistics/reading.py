"""What the statistics page and the open data read: the stored figures only, never their
sources (the job runner computes them: booking.services.statistics.refresh)."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from booking import clock
from booking.domain.figures import INDICATORS, PER_UNIT, paris_day, recent_weeks, shown
from booking.extensions import db
from booking.models import SlotDelay, StatisticsState, WeeklyFigure
from booking.models.statistics import FIGURE_ROW

CSV_COLUMNS = ("week", "indicator", "dimension", "value")
FIRST_SLOT, FRANCE = "first_slot_days", "|"  # France's dimensions: `|reason`
NATIONAL = [name for name in INDICATORS if name not in {FIRST_SLOT, PER_UNIT}]
NEVER = datetime(2026, 1, 1, tzinfo=UTC)  # Last-Modified before any computation


@dataclass(frozen=True)
class Cell:
    """One week's figure: a `masked` one (a unit's count under 5) is shown "< 5", never
    its value (stored as 0)."""

    value: float
    masked: bool = False


class Delay(NamedTuple):
    """One row of the latest measure of the delay to the first free slot."""

    measured_on: date
    department: str  # "" for France as a whole
    reason_code: str
    units: int
    units_without: int  # units with no free slot over the booking horizon
    median_days: float | None  # over the units with a slot; None when none has
    p90_days: float | None


@dataclass(frozen=True)
class Figures:
    """The figures of the last weeks, as the page shows them.

    `series[indicator][dimension][week]` is a Cell; a week without a figure is absent (no
    no-show rate without past visits, no delay without a measure). `first_slot_days` is
    there for France (`|reason`) and `unit_bookings` for the one unit asked for only: every
    département's and every unit's, week by week, are the CSV's."""

    weeks: list[str]  # ISO weeks (Paris), oldest first, the current one last
    series: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)
    computed_at: datetime | None = None  # when the job runner last computed them
    delays_measured_on: date | None = None  # the day of the latest delay measure
    latest_delays: list[Delay] = field(default_factory=list)  # that day's rows, sorted


def figures(weeks: int = 12, unit: str | None = None, now: datetime | None = None) -> Figures:
    """The figures of the `weeks` ISO weeks that end with the current one: the national
    ones, the delay to the first slot for France (`|reason`; the départements' are in
    `latest_delays`), and `unit`'s bookings (a public identifier) if asked. Three reads."""
    shown_weeks = recent_weeks(paris_day(now or clock.now()), weeks)
    indicator, dimension = WeeklyFigure.indicator, WeeklyFigure.dimension
    wanted = indicator.in_(NATIONAL) | (
        (indicator == FIRST_SLOT) & dimension.startswith(FRANCE, autoescape=True)
    )
    if unit:
        wanted |= (indicator == PER_UNIT) & (dimension == unit)
    rows = db.session.execute(
        select(indicator, dimension, WeeklyFigure.week, WeeklyFigure.value, WeeklyFigure.masked)
        .where(WeeklyFigure.week >= shown_weeks[0], WeeklyFigure.week <= shown_weeks[-1])
        .where(wanted)
    )
    series: defaultdict[str, defaultdict[str, dict[str, Cell]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for name, key, week, value, masked in rows:
        series[name][key][week] = Cell(value, masked)
    latest = latest_delays()
    return Figures(
        weeks=shown_weeks,
        series={name: dict(by_dimension) for name, by_dimension in series.items()},
        computed_at=computed_at(),
        delays_measured_on=latest[0].measured_on if latest else None,
        latest_delays=latest,
    )


def computed_at() -> datetime | None:
    """When the job runner last computed the figures (None: never)."""
    return db.session.scalar(select(StatisticsState.computed_at).where(StatisticsState.id == 1))


def latest_delays() -> list[Delay]:
    """The rows of the latest day the delays were measured, by département and reason."""
    last_day = select(func.max(SlotDelay.measured_on)).scalar_subquery()
    rows = db.session.execute(
        select(
            SlotDelay.measured_on,
            SlotDelay.department,
            SlotDelay.reason_code,
            SlotDelay.units,
            SlotDelay.units_without,
            SlotDelay.median_days,
            SlotDelay.p90_days,
        ).where(SlotDelay.measured_on == last_day)
    )
    return [Delay(*row) for row in sorted(rows, key=itemgetter(1, 2))]


def csv_rows() -> list[tuple[str, str, str, str]]:
    """Every figure as the open data writes it (`< 5` when masked), sorted by week,
    indicator and dimension (in Python: the same order whatever the database's collation)."""
    rows = db.session.execute(select(*FIGURE_ROW))
    return sorted(
        (week, indicator, dimension, shown(value, masked))
        for week, indicator, dimension, value, masked in rows
    )


@dataclass(frozen=True)
class Published:
    """The CSV as served, with what conditional GET needs."""

    body: bytes
    etag: str
    last_modified: datetime


_cache_lock = threading.Lock()


def published_csv() -> Published:
    """The CSV, written again only when the job runner has computed the figures since."""
    version = computed_at() or NEVER
    cache: dict[str, tuple[datetime, Published]]
    cache = current_app.extensions.setdefault("statistics_csv", {})
    with _cache_lock:
        hit = cache.get("csv")
    if hit and hit[0] == version:
        return hit[1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows())
    body = out.getvalue().encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:32]
    published = Published(body, etag, version.replace(microsecond=0))
    with _cache_lock:
        cache["csv"] = (version, published)
    return published

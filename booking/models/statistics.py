"""The public statistics (SPEC §14), computed by the job runner only: weekly figures, the
daily measure of the delay to the first free slot, and when both were last computed. No
personal data: counts, rates and days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime


class WeeklyFigure(db.Model):  # type: ignore[name-defined,misc]
    """One figure of one ISO week (Paris time), as the page and the open data show it."""

    __tablename__ = "weekly_figures"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # `2026-W48`
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(80), primary_key=True)  # "" when none
    value: Mapped[float] = mapped_column(Float)  # 0 when masked: never stored, never shown
    # A count under 5 for one unit: shown as "< 5" (booking.domain.figures).
    masked: Mapped[bool] = mapped_column(default=False, server_default=false())

    # The page reads a few indicators of a few weeks, among every unit's and département's.
    __table_args__ = (Index("ix_weekly_figures_indicator", "indicator", "week", "dimension"),)


class SlotDelay(db.Model):  # type: ignore[name-defined,misc]
    """The delay to the first free slot of a reason (on site), measured one morning over
    the active units of a département ("" for France as a whole)."""

    __tablename__ = "slot_delays"

    measured_on: Mapped[date] = mapped_column(Date, primary_key=True)  # Paris date
    department: Mapped[str] = mapped_column(String(3), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    units: Mapped[int]  # units measured
    units_without: Mapped[int]  # units with no free slot over the booking horizon
    # Over the units that have a free slot; None when none has.
    median_days: Mapped[float | None] = mapped_column(Float)
    p90_days: Mapped[float | None] = mapped_column(Float)


class StatisticsState(db.Model):  # type: ignore[name-defined,misc]
    """One row (id 1): when the figures were last computed and the delays last measured."""

    __tablename__ = "statistics_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delays_measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A figure's row as the services read it: week, indicator, dimension, value, masked.
FIGURE_ROW = (
    WeeklyFigure.week,
    WeeklyFigure.indicator,
    WeeklyFigure.dimension,
    WeeklyFigure.value,
    WeeklyFigure.masked,
)

"""How many citizens the orienteur led to each outcome, per day: counts only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db


class OrientationCount(db.Model):  # type: ignore[name-defined,misc]
    """The outcome reached so many times that day (Paris time)."""

    __tablename__ = "orientation_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

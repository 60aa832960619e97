"""Units, their opening ranges and closures, and the reasons for a visit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.types import UTCDateTime, now_default


class Unit(db.Model):  # type: ignore[name-defined,misc]
    """A gendarmerie unit that receives the public."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    street: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="", index=True)
    commune: Mapped[str] = mapped_column(String(120), default="")
    insee: Mapped[str] = mapped_column(String(5), default="")
    department: Mapped[str] = mapped_column(String(3), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    timezone: Mapped[str] = mapped_column(String(40))
    desks: Mapped[int] = mapped_column(SmallInteger, default=1)
    # Phone and video appointments served at once (SPEC §12); 0: the unit offers none.
    remote_lines: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    # Lower-case, accent-free name and commune, for searching on every database alike.
    search_key: Mapped[str] = mapped_column(String(400), default="")
    # Staff changed the hours here: a re-import reports the conflict and keeps them.
    hours_edited_locally: Mapped[bool] = mapped_column(default=False)
    # Raised by the database on any change to the unit's bookings, closures or hours:
    # cached slot answers compare it (see db_rules).
    changes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default, index=True)

    opening_ranges: Mapped[list[OpeningRange]] = relationship(
        back_populates="unit",
        cascade="all, delete-orphan",
        order_by="(OpeningRange.weekday, OpeningRange.start_minute)",
    )

    __table_args__ = (
        CheckConstraint("desks >= 1", name="units_desks_positive"),
        CheckConstraint("remote_lines >= 0", name="units_remote_lines_positive"),
    )


class OpeningRange(db.Model):  # type: ignore[name-defined,misc]
    """One local opening range of a unit: a weekday (0 = Monday, 7 = public holidays)."""

    __tablename__ = "opening_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    # NULL: the hours in force. A date: the hours the unit's staff set from that local date
    # on (one such change at a time, kept apart until then; the job runner makes it the
    # hours in force that day).
    valid_from: Mapped[date | None] = mapped_column(Date)

    unit: Mapped[Unit] = relationship(back_populates="opening_ranges")

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 7", name="opening_ranges_weekday"),
        CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440",
            name="opening_ranges_bounds",
        ),
        Index("ix_opening_ranges_unit", "unit_id", "weekday"),
    )


class Closure(db.Model):  # type: ignore[name-defined,misc]
    """An exceptional closure of a unit: no visit in [starts_at, ends_at)."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    __table_args__ = (CheckConstraint("starts_at < ends_at", name="closures_ordered"),)


class Reason(db.Model):  # type: ignore[name-defined,misc]
    """A reason for a visit (motif), with its duration and the documents to bring."""

    __tablename__ = "reasons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    discreet: Mapped[bool] = mapped_column(default=False)
    documents: Mapped[str] = mapped_column(String(1000), default="")
    # The optional pre-declaration's form, as JSON (booking.domain.predeclaration); "" if none.
    pre_declaration: Mapped[str] = mapped_column(Text, default="", server_default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The modes it may be held in, comma-separated, on site first (SPEC §12).
    modes: Mapped[str] = mapped_column(String(40), default="on_site", server_default="on_site")

    @property
    def mode_list(self) -> list[str]:
        """The modes it allows, in order."""
        return [mode for mode in self.modes.split(",") if mode] or ["on_site"]

    __table_args__ = (
        CheckConstraint(
            "duration_minutes > 0 AND duration_minutes % 15 = 0", name="reasons_duration_quarter"
        ),
    )

"""Typed ORM models: what is stored, with no business rules and no commits."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking import clock, db_rules
from booking.extensions import db


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    """Default of timestamp columns: the service's clock (tests move it)."""
    return clock.now()


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
    active: Mapped[bool] = mapped_column(default=True, index=True)
    # Lower-case, accent-free name and commune, for searching on every database alike.
    search_key: Mapped[str] = mapped_column(String(400), default="")
    # Staff changed the hours here: a re-import reports the conflict and keeps them.
    hours_edited_locally: Mapped[bool] = mapped_column(default=False)
    # Raised by the database on any change to the unit's bookings, closures or hours:
    # cached slot answers compare it (see db_rules).
    changes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)

    opening_ranges: Mapped[list[OpeningRange]] = relationship(
        back_populates="unit",
        cascade="all, delete-orphan",
        order_by="(OpeningRange.weekday, OpeningRange.start_minute)",
    )

    __table_args__ = (CheckConstraint("desks >= 1", name="units_desks_positive"),)


class OpeningRange(db.Model):  # type: ignore[name-defined,misc]
    """One local opening range of a unit: a weekday (0 = Monday, 7 = public holidays)."""

    __tablename__ = "opening_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)

    unit: Mapped[Unit] = relationship(back_populates="opening_ranges")

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 7", name="opening_ranges_weekday"),
        CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440",
            name="opening_ranges_bounds",
        ),
        Index("ix_opening_ranges_unit", "unit_id", "weekday"),
    )


class Reason(db.Model):  # type: ignore[name-defined,misc]
    """A reason for a visit (motif), with its duration and the documents to bring."""

    __tablename__ = "reasons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    discreet: Mapped[bool] = mapped_column(default=False)
    documents: Mapped[str] = mapped_column(String(1000), default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint(
            "duration_minutes > 0 AND duration_minutes % 15 = 0", name="reasons_duration_quarter"
        ),
    )


class Closure(db.Model):  # type: ignore[name-defined,misc]
    """An exceptional closure of a unit: no visit in [starts_at, ends_at)."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (CheckConstraint("starts_at < ends_at", name="closures_ordered"),)


class BookingStatus(StrEnum):
    """Where a booking stands."""

    CONFIRMED = "confirmed"
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen"
    CANCELLED_BY_UNIT = "cancelled_by_unit"
    HONOURED = "honoured"
    NO_SHOW = "no_show"
    # BOOKING_EMAIL_VERIFICATION: a hold until the citizen confirms from the email.
    PENDING = "pending"
    EXPIRED = "expired"


# The bookings that occupy a desk.
ACTIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.PENDING)


class Booking(db.Model):  # type: ignore[name-defined,misc]
    """An appointment of a citizen at a unit, for a reason."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24), default=BookingStatus.CONFIRMED)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    # Only a hash of the cancel link's secret is kept: a database leak cancels nothing.
    token_hash: Mapped[str] = mapped_column(String(64))
    ics_uid: Mapped[str] = mapped_column(String(120), unique=True)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_error: Mapped[str] = mapped_column(String(300), default="")
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    unit: Mapped[Unit] = relationship()
    reason: Mapped[Reason] = relationship()

    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="bookings_ordered"),
        CheckConstraint(
            "status IN ('confirmed', 'cancelled_by_citizen', 'cancelled_by_unit',"
            " 'honoured', 'no_show', 'pending', 'expired')",
            name="bookings_status",
        ),
        Index("ix_bookings_unit_time", "unit_id", "starts_at", "ends_at"),
    )


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """An email waiting to be sent, written in the transaction of the change that causes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # confirmation, cancellation, reminder…
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    # The whole MIME message, rendered when the change was made: sending needs nothing else.
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "dropped_at", "next_attempt_at"),)


class RunnerHeartbeat(db.Model):  # type: ignore[name-defined,misc]
    """The active job runner says it is alive here; /readyz reads it."""

    __tablename__ = "runner_heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


staff_units = Table(
    "staff_units",
    db.metadata,
    Column("staff_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(db.Model):  # type: ignore[name-defined,misc]
    """An agent of one or more units, or an administrator of all."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    units: Mapped[list[Unit]] = relationship(secondary=staff_units, order_by="Unit.name")

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        """Every loaded user is signed in."""
        return True

    @property
    def is_active(self) -> bool:
        """A deactivated account cannot sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """The session's key of the user."""
        return str(self.id)


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One staff change to a booking or a unit: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(100), default="")
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")


class CalendarFeed(db.Model):  # type: ignore[name-defined,misc]
    """The secret of a unit's read-only calendar feed; only its hash is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


db_rules.attach(Booking.__table__)
db_rules.attach_change_counters(Booking.__table__, Closure.__table__, OpeningRange.__table__)

"""Staff accounts, the audit log, the units' calendar feeds, invitation links, the job
runner's heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.types import UTCDateTime, now_default
from booking.models.units import Unit

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by a logout or a password change: every session signed with an older one ends.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

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
        """The session's key of the user: id and session version (`12:3`)."""
        return f"{self.id}:{self.session_version}"


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One staff change to a booking or a unit: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default, index=True)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """A link an agent gives a caller (SPEC §12): it opens the slots of one unit, one reason
    and one mode, for one booking, until it expires or is revoked. Only its secret's hash is
    kept; `booking_id` is set in the transaction of the one booking it makes."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"))
    mode: Mapped[str] = mapped_column(String(8), default="on_site")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), unique=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()


class RunnerHeartbeat(db.Model):  # type: ignore[name-defined,misc]
    """The active job runner says it is alive here; /readyz reads it."""

    __tablename__ = "runner_heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

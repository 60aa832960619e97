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
    # Raised by a password change or a deactivation: every session opened before it ends.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The second factor of a password account (SPEC §15): the TOTP secret, sealed with a key
    # derived from SECRET_KEY; set at the first sign-in, in use once `totp_enabled_at` is.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step whose code was accepted: a code is good once.
    totp_last_step: Mapped[int] = mapped_column(default=0, server_default="0")
    # The ProConnect identity (`sub`) linked at the account's first ProConnect sign-in.
    proconnect_sub: Mapped[str | None] = mapped_column(String(255), unique=True, index=True)

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

    # The secret of the session this request came with (booking.services.staff.sessions):
    # Flask-Login keeps what get_id() returns in the signed cookie, and a session is found
    # again, or refused, by it.
    session_secret = ""

    def get_id(self) -> str:
        """The key Flask-Login keeps in the cookie: the secret of the open session."""
        return self.session_secret


class StaffSession(db.Model):  # type: ignore[name-defined,misc]
    """One signed-in device of an agent: the list on the account page, ended by a logout,
    "end this session", inactivity, its lifetime, a new password or a deactivated account.
    Only the hash of its secret is kept; the cookie holds the secret."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=0)  # the account's session_version then
    method: Mapped[str] = mapped_column(String(20))  # password+totp, password+recovery, proconnect
    acr: Mapped[str] = mapped_column(String(60), default="")
    amr: Mapped[str] = mapped_column(String(120), default="")
    id_token: Mapped[str] = mapped_column(Text, default="")  # the hint for ProConnect's logout
    device: Mapped[str] = mapped_column(String(200), default="")  # the browser's User-Agent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(40), default="")


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A single-use code that stands in for the TOTP code; only its SHA-256 is kept."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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

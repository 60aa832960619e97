"""Bookings and the emails written about them (the outbox)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BindParameter,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    TextClause,
    bindparam,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.domain import capacity
from booking.extensions import db
from booking.models.types import UTCDateTime, now_default
from booking.models.units import Reason, Unit


class BookingStatus(StrEnum):
    """Where a booking stands."""

    CONFIRMED = capacity.CONFIRMED
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen"
    CANCELLED_BY_UNIT = "cancelled_by_unit"
    HONOURED = "honoured"
    NO_SHOW = "no_show"
    # BOOKING_EMAIL_VERIFICATION: a hold until the citizen confirms from the email.
    PENDING = capacity.HELD
    EXPIRED = "expired"


class Channel(StrEnum):
    """How a booking was made (SPEC §12)."""

    ONLINE = "online"  # the site
    STAFF = "staff"  # an agent, for a caller, from the workspace
    INVITATION = "invitation"  # through an invitation link
    PARTNER_API = "partner_api"  # a partner service with an API key
    WAITLIST = "waitlist"  # an accepted waiting-list offer


# The bookings that are still to be honoured, or confirmed (a hold only holds its seat
# until it expires: booking.domain.capacity).
ACTIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.PENDING)


def drawing_on(mode: str | None = None) -> TextClause:
    """The bookings that draw on the capacity the mode `mode` draws on (or on the one of
    the bound parameter `capacity`, 'desks' or 'remote_lines', given when it runs)."""
    drawn: BindParameter[str] = bindparam("capacity", capacity.draws_on(mode) if mode else None)
    return text(f"{capacity.draws_on_sql('bookings')} = :capacity").bindparams(drawn)


def holding_seat(row: str = "bookings", now: datetime | None = None) -> TextClause:
    """The capacity rule's SQL (booking.domain.capacity) on a row of `bookings` named `row`,
    at the instant `now`, or at the bound parameter `now` given when the statement runs:
    the test every read of the bookings that hold a seat uses, as the triggers do."""
    instant = bindparam("now", now, type_=UTCDateTime())
    return text(capacity.holds_sql(row, ":now")).bindparams(instant)


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
    # The mailbox behind the address (no +tag, no dots where the provider ignores them): the
    # per-email limit counts this, so that victim+1@… is not a new address.
    email_key: Mapped[str] = mapped_column(String(254), default="", server_default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    # What the citizen pre-declared for the unit, sealed
    # (booking.services.bookings.predeclarations):
    # never readable without PRE_DECLARATION_KEYS; erased with the other personal data.
    pre_declaration: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Only a hash of the cancel link's secret is kept: a database leak cancels nothing.
    token_hash: Mapped[str] = mapped_column(String(64))
    ics_uid: Mapped[str] = mapped_column(String(120), unique=True)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_error: Mapped[str] = mapped_column(String(300), default="")
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Discreet (SPEC §17): the reason is discreet, the visit went through a sensitive branch
    # of the orienteur, or the citizen asked. Its emails and invitation say nothing of the
    # reason nor of the gendarmerie, and it may have no email address at all ("").
    discreet: Mapped[bool] = mapped_column(default=False, server_default=false())
    # How the visit takes place (SPEC §12): on site, by phone, by video; which capacity of
    # the unit it draws on follows (booking.domain.capacity).
    mode: Mapped[str] = mapped_column(
        String(8), default=capacity.ON_SITE, server_default=capacity.ON_SITE
    )
    channel: Mapped[str] = mapped_column(
        String(12), default=Channel.ONLINE, server_default=Channel.ONLINE.value
    )
    # A video appointment's room, a secret random name (never derived from the reference or
    # an id): shown to the citizen and to the unit's staff only; "" otherwise, and once
    # cancelled.
    video_room: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The language it was made in (SPEC §13): its emails and its manage page speak it.
    language: Mapped[str] = mapped_column(String(2), default="fr", server_default="fr")
    # The agent who booked it for a caller, or who made the invitation link it came through.
    booked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    unit: Mapped[Unit] = relationship()
    reason: Mapped[Reason] = relationship()

    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="bookings_ordered"),
        CheckConstraint(
            "status IN ('confirmed', 'cancelled_by_citizen', 'cancelled_by_unit',"
            " 'honoured', 'no_show', 'pending', 'expired')",
            name="bookings_status",
        ),
        CheckConstraint("mode IN ('on_site', 'phone', 'video')", name="bookings_mode"),
        CheckConstraint(
            "channel IN ('online', 'staff', 'invitation', 'partner_api', 'waitlist')",
            name="bookings_channel",
        ),
        Index("ix_bookings_unit_time", "unit_id", "starts_at", "ends_at"),
        Index("ix_bookings_created_at", "created_at"),  # the challenge's load measure
    )


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """An email waiting to be sent, written in the transaction of the change that causes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # confirmation, cancellation, reminder…
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    # A waiting-list email's entry: the row goes when the entry is deleted.
    waitlist_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    # What to say, as JSON (booking.services.messages.notifications.Notice), rendered when sent…
    notice: Mapped[str] = mapped_column(Text, default="", server_default="")
    # …or a whole MIME message, recorded composed (messages of earlier releases).
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "dropped_at", "next_attempt_at"),)


class SubmittedOnce(db.Model):  # type: ignore[name-defined,misc]
    """A booking request already answered: the form's one-time key, or an API client's
    Idempotency-Key. Written in the booking's transaction, unique: a second submission of
    the same key leads to the same booking, never to a second one (kept 24 hours)."""

    __tablename__ = "submitted_once"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    # SHA-256 of the request (API: the body; forms: empty, any resubmission is the same).
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    # The first answer, without the manage link's secret (derived again when replayed).
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default, index=True)

    booking: Mapped[Booking | None] = relationship()

"""The waiting list, its offers, spent proof-of-work solutions and partners' API keys."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.types import UTCDateTime, now_default
from booking.models.units import Reason, Unit


class EntryStatus(StrEnum):
    """Where a person on the waiting list stands."""

    UNCONFIRMED = "unconfirmed"  # the address is not confirmed yet
    WAITING = "waiting"
    BOOKED = "booked"  # accepted an offer
    LEFT = "left"
    EXPIRED = "expired"  # the last day that suited has passed


class OfferStatus(StrEnum):
    """What became of an offer."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # declined, or the person left the list


waitlist_units = Table(
    "waitlist_units",
    db.metadata,
    Column("entry_id", ForeignKey("waitlist_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True, index=True),
)


class WaitlistEntry(db.Model):  # type: ignore[name-defined,misc]
    """A person waiting for a slot of a reason at one or more units, on some days and parts
    of day, until a last day."""

    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    # Days that suit, Monday = 0, as digits ("01234"); parts of day: "am", "pm" or "ampm".
    weekdays: Mapped[str] = mapped_column(String(7))
    parts: Mapped[str] = mapped_column(String(4))
    until: Mapped[date] = mapped_column(Date)
    # The first day that suits (a partner's `from`); None: from today.
    since: Mapped[date | None] = mapped_column(Date)
    # How the visit would take place (SPEC §12), and the number to call for `phone`.
    mode: Mapped[str] = mapped_column(String(8), default="on_site", server_default="on_site")
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # The language it was made in (SPEC §13): its emails and its offers speak it.
    language: Mapped[str] = mapped_column(String(2), default="fr", server_default="fr")
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.UNCONFIRMED)
    token_hash: Mapped[str] = mapped_column(String(64))  # of the secret of its links
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    # The place in the queue: first confirmed, first offered.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    units: Mapped[list[Unit]] = relationship(secondary=waitlist_units, order_by=Unit.name)
    reason: Mapped[Reason] = relationship()

    __table_args__ = (
        CheckConstraint(
            "status IN ('unconfirmed', 'waiting', 'booked', 'left', 'expired')",
            name="waitlist_entries_status",
        ),
        Index("ix_waitlist_entries_queue", "status", "confirmed_at"),
    )


class WaitlistOffer(db.Model):  # type: ignore[name-defined,misc]
    """A freed slot offered to one person: a hold (a pending booking) in their name until
    it expires. A person has one offer at a time, and a slot's seat one hold at a time: the
    database keeps both (the index below, and the desk rule on bookings)."""

    __tablename__ = "waitlist_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="CASCADE"))
    # The entry's mailbox: one open offer per person, whatever the entries they made.
    email_key: Mapped[str] = mapped_column(String(254), default="", server_default="")
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=OfferStatus.OFFERED)
    # Made at night in the unit's zone (held until the morning): let expire, it does not
    # count towards ending the entry.
    night: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "status IN ('offered', 'accepted', 'expired', 'withdrawn')",
            name="waitlist_offers_status",
        ),
        Index(
            "ux_waitlist_offers_one_open",
            "entry_id",
            unique=True,
            postgresql_where=text("status = 'offered'"),
            sqlite_where=text("status = 'offered'"),
        ),
        Index(
            "ux_waitlist_offers_one_open_per_mailbox",
            "email_key",
            unique=True,
            postgresql_where=text("status = 'offered'"),
            sqlite_where=text("status = 'offered'"),
        ),
        Index("ix_waitlist_offers_mailbox_slot", "email_key", "unit_id", "starts_at"),
    )


class SpentChallenge(db.Model):  # type: ignore[name-defined,misc]
    """A proof-of-work solution already used: a second use is refused (the key is unique)."""

    __tablename__ = "spent_challenges"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A partner service's key: only its SHA-256 is kept; revoked, it opens nothing."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))  # shown, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("length(key_hash) = 64", name="api_keys_hash_length"),)

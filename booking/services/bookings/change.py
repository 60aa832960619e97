"""Changing a booking from its link: confirming a hold, cancelling, moving; and the rules
on what can still change. Each is one write transaction that locks the booking's unit
first, as every write to a unit's bookings does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Select, select, update
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write, fresh, run
from booking.domain.capacity import HELD, holds_capacity
from booking.domain.words import N_, Text
from booking.errors import LimitReached, NotChangeable, SlotUnavailable, WrongLink
from booking.extensions import db
from booking.keys import purpose_key
from booking.models import ACTIVE_STATUSES, Booking, BookingStatus, Unit
from booking.services.bookings import mailbox
from booking.services.bookings.contact import parse_start
from booking.services.bookings.writes import commit_or_unavailable, flush_or_unavailable
from booking.services.messages import notifications
from booking.services.slots.cache import EVERY_UNIT, touching
from booking.services.slots.offered import slot_at
from booking.tokens import confirmation_token, same_hash, same_secret


def confirm_booking(
    reference: str, token: str, confirmation: str, now: datetime | None = None
) -> Booking:
    """The citizen confirms a held booking from its email, before the hold expires: the
    email's secret (`confirmation`) proves the mailbox, and the mailbox must have room."""
    now = now or clock.now()
    begin_write()
    booking = _booking_for_change(reference, token)
    if booking.status == BookingStatus.CONFIRMED:
        db.session.commit()  # confirmed twice: the same answer, nothing more
        return booking
    if booking.status != BookingStatus.PENDING:
        raise NotChangeable(N_("Ce rendez-vous n'est plus en attente de confirmation."))
    if not confirms(booking, confirmation):
        raise NotChangeable(CONFIRM_FROM_EMAIL)
    if not is_held(booking, now):
        booking.status = BookingStatus.EXPIRED
        booking.video_room = ""
        db.session.commit()
        raise NotChangeable(
            N_(
                "Le délai de confirmation est dépassé et le créneau a été libéré :"
                " reprenez rendez-vous."
            )
        )
    if booking.email_key:
        mailbox.lock_mailbox(booking.email_key)
        if mailbox.is_full(booking.email_key, now):
            raise LimitReached(
                Text(
                    "Cette adresse a déjà %(count)s rendez-vous à venir : annulez-en un"
                    " (depuis le lien de son courriel), puis confirmez celui-ci.",
                    count=mailbox.limit(),
                )
            )
    booking.status = BookingStatus.CONFIRMED
    booking.hold_expires_at = None
    booking.updated_at = now
    notifications.confirmation(booking)
    commit_or_unavailable()
    return booking


CONFIRM_FROM_EMAIL = N_(
    "Pour confirmer ce rendez-vous, ouvrez le lien du courriel envoyé à l'adresse indiquée."
)


def confirms(booking: Booking, confirmation: str) -> bool:
    """Whether a secret is the one the hold's email carries (compared in constant time)."""
    expected = confirmation_token(booking.ics_uid, purpose_key("confirmations"))
    return same_secret(expected, confirmation)


def cancel_by_citizen(reference: str, token: str, now: datetime | None = None) -> Booking:
    """Cancel from the link of the email, until the start; the slot is free at once."""
    now = now or clock.now()
    begin_write()
    booking = _booking_for_change(reference, token)
    check_changeable(booking, now, holds_too=True)
    held = booking.status == BookingStatus.PENDING
    booking.status = BookingStatus.CANCELLED_BY_CITIZEN
    booking.video_room = ""  # a cancelled appointment loses its room
    booking.ics_sequence += 1
    booking.updated_at = now
    if not held:  # a hold never had an invitation to withdraw
        notifications.cancellation(booking)
    db.session.commit()
    return booking


def move_booking(
    reference: str, token: str, new_start: str, now: datetime | None = None
) -> Booking:
    """Move to another offered slot of the same unit and reason: same UID, higher SEQUENCE."""
    now = now or clock.now()
    start = parse_start(new_start)
    begin_write()
    booking = _booking_for_change(reference, token)
    check_changeable(booking, now)
    if (
        slot_at(
            booking.unit, booking.reason, start, now, exclude_booking=booking.id, mode=booking.mode
        )
        is None
    ):
        raise SlotUnavailable()
    previous = booking.starts_at
    booking.starts_at = start
    booking.ends_at = start + timedelta(minutes=booking.reason.duration_minutes)
    booking.ics_sequence += 1
    booking.reminder_sent_at = None
    booking.updated_at = now
    flush_or_unavailable()
    notifications.moved(booking, previous)
    commit_or_unavailable()
    return booking


def find_booking(reference: str, token: str) -> Booking:
    """The booking of a manage link, when its secret matches; WrongLink otherwise."""
    return _matching(select(Booking), reference, token)


def language_of(reference: str, token: str) -> str | None:
    """The language a booking was made in, for its manage link (None when the link's secret
    does not match: a wrong link learns nothing, not even a language)."""
    row = db.session.execute(
        select(Booking.language, Booking.token_hash).where(
            Booking.reference == reference.strip().upper()
        )
    ).first()
    if row is None or not same_hash(row.token_hash, token):
        return None
    return str(row.language)


def _matching(query: Select[Booking], reference: str, token: str) -> Booking:
    """The booking of a reference with its unit and reason, if the link's secret matches."""
    booking = db.session.scalar(
        query.where(Booking.reference == reference.strip().upper())
        .options(joinedload(Booking.unit).selectinload(Unit.opening_ranges))
        .options(joinedload(Booking.reason))
    )
    # Compared even when nothing was found: the answer and its timing say nothing more.
    if not same_hash(booking.token_hash if booking else "", token) or booking is None:
        raise WrongLink()
    return cast(Booking, booking)


def can_change(booking: Booking, now: datetime, holds_too: bool = False) -> bool:
    """Only a confirmed booking (or a hold, to cancel it) that has not started can change."""
    allowed = ACTIVE_STATUSES if holds_too else (BookingStatus.CONFIRMED,)
    return booking.status in allowed and booking.starts_at > now


def is_held(booking: Booking, now: datetime) -> bool:
    """A hold (email verification, a waiting-list offer) its citizen may still confirm."""
    return booking.status == HELD and holds_capacity(booking.status, booking.hold_expires_at, now)


def check_changeable(booking: Booking, now: datetime, holds_too: bool = False) -> None:
    """NotChangeable, with the reason, unless the booking can still change."""
    if can_change(booking, now, holds_too):
        return
    if booking.starts_at <= now and booking.status in ACTIVE_STATUSES:
        raise NotChangeable(N_("Ce rendez-vous a déjà commencé : il ne peut plus être modifié."))
    raise NotChangeable()


def expire_holds(now: datetime, unit_id: int | None = None) -> int:
    """Mark expired the holds nobody confirmed in time (in the caller's write transaction):
    bookkeeping only, since a hold past its expiry already holds nothing."""
    query = update(Booking).where(
        Booking.status == BookingStatus.PENDING, Booking.hold_expires_at <= now
    )
    if unit_id is not None:
        query = query.where(Booking.unit_id == unit_id)
    result = run(query.values(status=BookingStatus.EXPIRED, video_room="", updated_at=now))
    expired = int(getattr(result, "rowcount", 0) or 0)
    if expired:
        touching(EVERY_UNIT if unit_id is None else unit_id)
    return expired


def _booking_for_change(reference: str, token: str) -> Booking:
    """In a write transaction: lock the booking's unit first, then read the booking afresh."""
    unit_of = select(Booking.unit_id).where(Booking.reference == reference.strip().upper())
    db.session.execute(
        select(Unit.id).where(Unit.id == unit_of.scalar_subquery()).with_for_update()
    )
    return _matching(fresh(select(Booking)), reference, token)


# Statements of the booking path, built once (building them costs more than running them).

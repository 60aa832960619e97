"""Booking, confirming, cancelling and moving an appointment.

A booking is checked (the details, the start offered) before the write lock is taken; under
the lock only what must be atomic is done: the unit's row is locked (every write that
touches a unit's bookings, closures or hours locks it first, so they queue in one order and
never deadlock), the check is redone only if the unit's hours or closures changed since, the
per-email limit is counted, the row is inserted (the database's trigger has the last word
on desks), and the email is queued in the same transaction.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write, fresh, run
from booking.db_rules import CLOSED, OVERBOOKING, refusal
from booking.errors import (
    Conflict,
    Invalid,
    LimitReached,
    NotChangeable,
    SlotUnavailable,
    WrongLink,
)
from booking.extensions import db
from booking.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Reason,
    SubmittedOnce,
    Unit,
    UTCDateTime,
)
from booking.services.bookings.contact import Contact, mailbox_key, parse_start, validate_contact
from booking.services.bookings.once import Once, answered, claim, is_spent, summary
from booking.services.bookings.predeclarations import seal_answers
from booking.services.messages import notifications
from booking.services.slots.cache import EVERY_UNIT, touching
from booking.services.slots.offered import slot_at
from booking.services.units.reading import lock_unit, lock_unit_version
from booking.tokens import hash_token, link_token, same_hash
from booking.urls import base_host

# No 0/O, 1/I/L: a reference read over the phone or copied by hand stays unambiguous.
T = TypeVar("T")
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
REFUSALS = {
    OVERBOOKING: "Ce créneau vient d'être pris : choisissez-en un autre.",
    CLOSED: "L'unité vient de fermer à ce moment-là : choisissez un autre créneau.",
}


class Booked(NamedTuple):
    """A booking made (or found again, for a request already answered), the secret of its
    manage link (never stored), and the first answer given about it."""

    booking: Booking
    token: str
    answer: dict[str, Any]
    replayed: bool = False  # the answer of an earlier submission: nothing booked now


@dataclass(frozen=True)
class BookingDetails:
    """What a citizen or a partner sends to book, besides the unit and the reason."""

    start: str
    name: str
    email: str
    phone: str = ""
    comment: str = ""
    # The reason's pre-declaration as typed (field name → value); sealed before storage.
    pre_declaration: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hold:
    """A booking made as a hold the citizen confirms from an email before it expires, and
    what else to write in its transaction (given the new booking's id)."""

    minutes: int
    notice: str  # the kind of email that asks to confirm
    also: Callable[[Booking], None] | None = None
    waitlist: str = ""  # the waiting-list entry it is offered to, whose email can leave it


def book(
    unit: Unit,
    reason: Reason,
    details: BookingDetails,
    now: datetime | None = None,
    once: Once | None = None,
    retried: bool = False,
    hold: Hold | None = None,
) -> Booked:
    """Take a slot; return the booking and the secret of its manage link.

    With `once`, a request already answered returns the booking it made, and two
    submissions of it make one booking at most. With `hold`, or in email-verification mode,
    the booking holds the slot until confirmed from the email.
    """
    now = now or clock.now()
    done = answered(once, now) if once else None
    if once and done is not None and (once.replays_spent or not is_spent(done)):
        return _replay(done)
    start = parse_start(details.start)
    contact, sealed = _checked(unit, reason, details, now)
    if slot_at(unit, reason, start, now) is None:
        again = answered(once, now) if once and done is None else None
        if once and again is not None and not is_spent(again):  # a double tap's twin took it
            return _replay(again)
        raise SlotUnavailable()
    if hold is None and current_app.config["BOOKING_EMAIL_VERIFICATION"]:
        hold = Hold(current_app.config["BOOKING_HOLD_MINUTES"], "verification")
    uid = f"{uuid.uuid4()}@{base_host()}"
    token = link_token(uid, current_app.config["SECRET_KEY"])
    values = {
        "reference": _new_reference(),
        "unit_id": unit.id,
        "reason_code": reason.code,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=reason.duration_minutes),
        "status": BookingStatus.PENDING if hold else BookingStatus.CONFIRMED,
        "hold_expires_at": now + timedelta(minutes=hold.minutes) if hold else None,
        "name": contact.name,
        "email": contact.email,
        "email_key": mailbox_key(contact.email),
        "phone": contact.phone,
        "comment": contact.comment,
        "pre_declaration": sealed,
        "token_hash": hash_token(token),
        "ics_uid": uid,
        "ics_sequence": 0,
        "created_at": now,
        "updated_at": now,
    }
    # Everything that is not the write itself is made before the write lock: the booking as
    # it will be answered, and the notice of its email.
    booking = Booking(**values, unit=unit, reason=reason)
    notice = notifications.Notice.of(
        hold.notice if hold else "confirmation", booking, waitlist=hold.waitlist if hold else ""
    )
    notice_json, answer = notice.to_json(), summary(booking)
    begin_write()
    entry = claim(once, now, spent=done) if once else None
    if once and entry is None:  # submitted again meanwhile, and booked: that booking
        if retried:
            raise Conflict("Cette demande vient d'être envoyée : patientez un instant.")
        return book(unit, reason, details, now, once, retried=True)
    _lock_and_recheck(unit, reason, start, now)
    if hold:
        expire_holds(now, unit.id)
    _check_email_limit(booking.email_key, now)
    # One INSERT, which the database's desk rule checks (a refusal is a lost race).
    booking.id = _or_unavailable(lambda: cast(int, run(_INSERT_BOOKING, values).scalar()))
    touching(unit.id)
    if entry is not None:
        entry.booking_id, entry.answer = booking.id, json.dumps(answer, ensure_ascii=False)
    if hold and hold.also:
        hold.also(booking)
    notifications.record(notice, booking.id, notice_json)
    _commit_or_unavailable()
    return Booked(booking, token, answer)


def _checked(
    unit: Unit, reason: Reason, details: BookingDetails, now: datetime
) -> tuple[Contact, str]:
    """The citizen's details checked and the pre-declaration sealed; one Invalid names every
    wrong field of both."""
    errors: dict[str, str] = {}
    contact, sealed = None, ""
    try:
        contact = validate_contact(
            details.name, details.email, details.phone, details.comment, unit.department
        )
    except Invalid as error:
        errors.update(error.fields)
    try:
        today = now.astimezone(ZoneInfo(unit.timezone)).date()
        sealed = seal_answers(reason, details.pre_declaration, today)
    except Invalid as error:
        errors.update(error.fields)
    if contact is None or errors:
        raise Invalid(fields=errors)
    return contact, sealed


def _replay(done: SubmittedOnce) -> Booked:
    """The answer of a request already answered, its manage link derived again."""
    if done.booking is None:
        raise Conflict("Cette demande a déjà reçu une réponse.")
    token = link_token(done.booking.ics_uid, current_app.config["SECRET_KEY"])
    return Booked(done.booking, token, json.loads(done.answer), replayed=True)


def confirm_booking(reference: str, token: str, now: datetime | None = None) -> Booking:
    """The citizen confirms a held booking from the email, before the hold expires."""
    now = now or clock.now()
    begin_write()
    booking = _booking_for_change(reference, token)
    if booking.status == BookingStatus.CONFIRMED:
        db.session.commit()  # confirmed twice: the same answer, nothing more
        return booking
    if booking.status != BookingStatus.PENDING:
        raise NotChangeable("Ce rendez-vous n'est plus en attente de confirmation.")
    if booking.hold_expires_at is None or booking.hold_expires_at <= now:
        booking.status = BookingStatus.EXPIRED
        db.session.commit()
        raise NotChangeable(
            "Le délai de confirmation est dépassé et le créneau a été libéré :"
            " reprenez rendez-vous."
        )
    booking.status = BookingStatus.CONFIRMED
    booking.hold_expires_at = None
    booking.updated_at = now
    notifications.confirmation(booking)
    _commit_or_unavailable()
    return booking


def cancel_by_citizen(reference: str, token: str, now: datetime | None = None) -> Booking:
    """Cancel from the link of the email, until the start; the slot is free at once."""
    now = now or clock.now()
    begin_write()
    booking = _booking_for_change(reference, token)
    check_changeable(booking, now, holds_too=True)
    held = booking.status == BookingStatus.PENDING
    booking.status = BookingStatus.CANCELLED_BY_CITIZEN
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
    if slot_at(booking.unit, booking.reason, start, now, exclude_booking=booking.id) is None:
        raise SlotUnavailable()
    booking.starts_at = start
    booking.ends_at = start + timedelta(minutes=booking.reason.duration_minutes)
    booking.ics_sequence += 1
    booking.reminder_sent_at = None
    booking.updated_at = now
    _flush_or_unavailable()
    notifications.moved(booking)
    _commit_or_unavailable()
    return booking


def find_booking(reference: str, token: str) -> Booking:
    """The booking of a manage link, when its secret matches; WrongLink otherwise."""
    return _matching(select(Booking), reference, token)


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
    """A hold (email verification) that its citizen may still confirm."""
    expiry = booking.hold_expires_at
    return booking.status == BookingStatus.PENDING and expiry is not None and expiry > now


def check_changeable(booking: Booking, now: datetime, holds_too: bool = False) -> None:
    """NotChangeable, with the reason, unless the booking can still change."""
    if can_change(booking, now, holds_too):
        return
    if booking.starts_at <= now and booking.status in ACTIVE_STATUSES:
        raise NotChangeable("Ce rendez-vous a déjà commencé : il ne peut plus être modifié.")
    raise NotChangeable()


def expire_holds(now: datetime, unit_id: int | None = None) -> int:
    """Mark expired the holds nobody confirmed in time (in the caller's write transaction)."""
    query = update(Booking).where(
        Booking.status == BookingStatus.PENDING, Booking.hold_expires_at <= now
    )
    if unit_id is not None:
        query = query.where(Booking.unit_id == unit_id)
    result = run(query.values(status=BookingStatus.EXPIRED, updated_at=now))
    expired = int(getattr(result, "rowcount", 0) or 0)
    if expired:
        touching(EVERY_UNIT if unit_id is None else unit_id)
    return expired


def _lock_and_recheck(unit: Unit, reason: Reason, start: datetime, now: datetime) -> None:
    """Under the unit's lock: check again, afresh, only if the unit changed since the check."""
    if lock_unit_version(unit.id) == unit.updated_at:
        return
    current = lock_unit(unit.id)
    if current is None or not current.active or slot_at(current, reason, start, now) is None:
        raise SlotUnavailable()


def _booking_for_change(reference: str, token: str) -> Booking:
    """In a write transaction: lock the booking's unit first, then read the booking afresh."""
    unit_of = select(Booking.unit_id).where(Booking.reference == reference.strip().upper())
    db.session.execute(
        select(Unit.id).where(Unit.id == unit_of.scalar_subquery()).with_for_update()
    )
    return _matching(fresh(select(Booking)), reference, token)


# Statements of the booking path, built once (building them costs more than running them).
_row = Booking.__table__.c
_ACTIVE_OF_MAILBOX = select(func.count(_row.id)).where(
    _row.email_key == bindparam("key"),
    or_(
        _row.status == BookingStatus.CONFIRMED.value,
        and_(
            _row.status == BookingStatus.PENDING.value,
            _row.hold_expires_at > bindparam("now", type_=UTCDateTime()),
        ),
    ),
    _row.ends_at > bindparam("now", type_=UTCDateTime()),
)
MAILBOX_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_REFERENCE_TAKEN = select(_row.id).where(_row.reference == bindparam("reference"))
_INSERT_BOOKING = insert(Booking.__table__).returning(_row.id)


def _check_email_limit(key: str, now: datetime) -> None:
    """At most BOOKING_MAX_ACTIVE_PER_EMAIL upcoming active bookings per mailbox."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise bookings of one mailbox across units (SQLite has a single writer anyway).
        run(MAILBOX_LOCK, {"key": key})
    limit = current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"]
    active = run(_ACTIVE_OF_MAILBOX, {"key": key, "now": now}).scalar()
    if (active or 0) >= limit:
        raise LimitReached(
            f"Cette adresse a déjà {limit} rendez-vous à venir : annulez-en un pour en prendre"
            " un autre."
        )


def _flush_or_unavailable() -> None:
    """Write now, so that the database's desk rule speaks before anything else is done."""
    _or_unavailable(db.session.flush)


def _commit_or_unavailable() -> None:
    """Commit; a late refusal by the desk rule is a lost race, not an error."""
    _or_unavailable(db.session.commit)


def _or_unavailable(write: Callable[[], T]) -> T:
    """Run a write; the database's refusal becomes SlotUnavailable (a 409), not a 500."""
    try:
        return write()
    except DBAPIError as error:
        db.session.rollback()
        rule = refusal(error)
        if rule:
            raise SlotUnavailable(REFUSALS[rule]) from error
        raise


def _new_reference() -> str:
    """A short reference not used yet (checked before the write: collisions are rare)."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if run(_REFERENCE_TAKEN, {"reference": reference}).scalar() is None:
            return reference

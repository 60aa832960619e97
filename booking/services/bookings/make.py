"""Making a booking: checked first, then written in one short transaction.

`prepare_booking` does everything that needs no lock: the citizen's details, the start
offered, the row and the answer, the notice of the email. `insert_booking` is the write, in
the caller's write transaction: the unit's row is locked (every write that touches a unit's
bookings, closures or hours locks it first, so they queue in one order and never
deadlock), the check is redone only if the unit's hours or closures changed since, the
per-email limit is counted, the row is inserted (the database's capacity rule has the last
word), and the email is queued. `book` is what citizens and partners call: a submission
already answered gets its first answer again (`_earlier_answer`, the one place replays are
decided), and the write transaction holds nothing but the key's claim and the write.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, insert, select

from booking import clock
from booking.database import begin_write, run
from booking.domain.capacity import ON_SITE, PHONE, VIDEO
from booking.domain.words import N_
from booking.errors import Conflict, Invalid, ModeUnavailable, SlotUnavailable
from booking.extensions import db
from booking.keys import purpose_key
from booking.models import (
    Booking,
    BookingStatus,
    Channel,
    Reason,
    SubmittedOnce,
    Unit,
)
from booking.services.bookings import mailbox
from booking.services.bookings.contact import Contact, mailbox_key, parse_start, validate_contact
from booking.services.bookings.once import Once, answered, claim, is_spent, summary
from booking.services.bookings.predeclarations import seal_answers
from booking.services.bookings.video import new_room
from booking.services.bookings.writes import commit_or_unavailable, or_unavailable
from booking.services.messages import notifications
from booking.services.slots.cache import touching
from booking.services.slots.offered import slot_at
from booking.services.units.reading import lock_unit, lock_unit_version
from booking.tokens import hash_token, link_token
from booking.urls import base_host

PHONE_NEEDED = N_(
    "Indiquez le numéro où l'unité vous appellera à l'heure du rendez-vous"
    " (exemple : 06 12 34 56 78)."
)
CONTACT_NEEDED = "Indiquez un numéro de téléphone ou une adresse électronique de l'appelant."

# No 0/O, 1/I/L: a reference read over the phone or copied by hand stays unambiguous.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


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
    # Asked to be discreet (SPEC §17): then the email may be left empty.
    discreet: bool = False
    # How the visit takes place, and how it was booked (SPEC §12).
    mode: str = ON_SITE
    channel: str = Channel.ONLINE
    booked_by_id: int | None = None  # the agent, for the staff's and invitations' bookings
    language: str = "fr"  # what its emails and its manage page speak (SPEC §13)


@dataclass(frozen=True)
class Hold:
    """A booking made as a hold that its citizen confirms from an email before it expires."""

    expires_at: datetime
    notice: str  # the kind of email that asks to confirm
    waitlist: str = ""  # the waiting-list entry it is offered to, whose email can leave it


@dataclass(frozen=True)
class Prepared:
    """A booking checked and ready to be written: its row, the object answered about it,
    the secret of its link, its email's notice and the answer, all made before any lock."""

    values: dict[str, Any]
    booking: Booking
    token: str
    notice: notifications.Notice
    notice_json: str
    answer: dict[str, Any]


def book(
    unit: Unit,
    reason: Reason,
    details: BookingDetails,
    now: datetime | None = None,
    once: Once | None = None,
    trusted: bool = False,
    within: Callable[[Booking], None] | None = None,
) -> Booked:
    """Take a slot; return the booking and the secret of its manage link.

    With `once`, a request already answered returns the booking it made, and two
    submissions of it make one booking at most. In email-verification mode (the default) an
    anonymous booking holds the slot until confirmed from its email; a `trusted` one (a
    partner service with an API key, answerable for whom it books) is confirmed at once.
    `within` runs in the write transaction once the row is in (an agent's audit entry, an
    invitation spent); what it raises undoes the booking.
    """
    now = now or clock.now()
    earlier, spent = _earlier_answer(once, now)
    if earlier is not None:
        return earlier
    if trusted and details.channel == Channel.ONLINE:
        details = replace(details, channel=Channel.PARTNER_API)
    try:
        hold = None if trusted else _verification_hold(now)
        prepared = prepare_booking(unit, reason, details, now, hold)
    except SlotUnavailable:
        # A double tap whose twin booked first meets its own slot taken: the twin's answer.
        twin = _earlier_answer(once, now)[0] if spent is None else None
        if twin is not None:
            return twin
        raise
    begin_write()
    entry = claim(once, now, spent) if once else None
    if once and entry is None:  # a twin claimed the key meanwhile (and rolled us back)
        twin = _earlier_answer(once, now)[0]
        if twin is not None:
            return twin
        raise Conflict(N_("Cette demande vient d'être envoyée : patientez un instant."))
    booking = insert_booking(unit, reason, prepared, now)
    if entry is not None:
        entry.booking_id = booking.id
        entry.answer = json.dumps(prepared.answer, ensure_ascii=False)
    if within is not None:
        try:
            within(booking)
        except BaseException:
            db.session.rollback()
            raise
    commit_or_unavailable()
    return Booked(booking, prepared.token, prepared.answer)


def _verification_hold(now: datetime) -> Hold | None:
    """In email-verification mode, a booking holds its slot until confirmed from the email:
    only the address's owner can confirm it, and only they learn whether it has room."""
    config = current_app.config
    if not config["BOOKING_EMAIL_VERIFICATION"]:
        return None
    return Hold(now + timedelta(minutes=config["BOOKING_HOLD_MINUTES"]), "verification")


def _earlier_answer(once: Once | None, now: datetime) -> tuple[Booked | None, SubmittedOnce | None]:
    """For a request with a key already answered: the answer to give again, or (a form's
    key whose booking was cancelled or expired: the person books that slot anew) the spent
    entry the new booking replaces. (None, None) for a key never seen."""
    done = answered(once, now) if once else None
    if once is None or done is None:
        return None, None
    if is_spent(done) and not once.replays_spent:
        return None, done
    if done.booking is None:
        raise Conflict(N_("Cette demande a déjà reçu une réponse."))
    token = link_token(done.booking.ics_uid, purpose_key("links"))
    return Booked(done.booking, token, json.loads(done.answer), replayed=True), None


def prepare_booking(
    unit: Unit, reason: Reason, details: BookingDetails, now: datetime, hold: Hold | None = None
) -> Prepared:
    """Check a booking and make everything its write needs, outside any write lock:
    Invalid names every wrong field, SlotUnavailable a start the unit does not offer."""
    start = parse_start(details.start)
    discreet = details.discreet or reason.discreet
    contact, sealed = _checked(unit, reason, details, now, discreet)
    if details.mode == VIDEO and not current_app.config["VIDEO_ROOM_URL"]:
        raise ModeUnavailable(N_("La visio n'est pas proposée."), {"mode": N_("pas de visio")})
    if slot_at(unit, reason, start, now, mode=details.mode) is None:
        raise SlotUnavailable()
    if not contact.email:
        hold = None  # nobody to confirm from an email: booked at once
    uid = f"{uuid.uuid4()}@{base_host()}"
    token = link_token(uid, purpose_key("links"))
    values = {
        "reference": _new_reference(),
        "unit_id": unit.id,
        "reason_code": reason.code,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=reason.duration_minutes),
        "status": BookingStatus.PENDING if hold else BookingStatus.CONFIRMED,
        "hold_expires_at": hold.expires_at if hold else None,
        "name": contact.name,
        "email": contact.email,
        "email_key": mailbox_key(contact.email),
        "phone": contact.phone,
        "comment": contact.comment,
        "pre_declaration": sealed,
        "discreet": discreet,
        "mode": details.mode,
        "channel": details.channel,
        "video_room": new_room(details.mode),
        "booked_by_id": details.booked_by_id,
        "language": details.language,
        "token_hash": hash_token(token),
        "ics_uid": uid,
        "ics_sequence": 0,
        "created_at": now,
        "updated_at": now,
    }
    booking = Booking(**values, unit=unit, reason=reason)
    notice = notifications.Notice.of(
        hold.notice if hold else "confirmation", booking, waitlist=hold.waitlist if hold else ""
    )
    return Prepared(values, booking, token, notice, notice.to_json(), summary(booking))


def insert_booking(unit: Unit, reason: Reason, prepared: Prepared, now: datetime) -> Booking:
    """The write, in the caller's write transaction (not committed): the unit locked and
    checked again if it changed, the mailbox's limit, one INSERT that the database's
    capacity rule checks (its refusal: SlotUnavailable, rolled back), the email queued."""
    booking = prepared.booking
    _lock_and_recheck(unit, reason, booking.starts_at, now, booking.mode)
    notice, notice_json = _mailbox_notice(prepared, now)
    values = prepared.values
    booking.id = or_unavailable(lambda: cast(int, run(_INSERT_BOOKING, values).scalar()))
    touching(unit.id)
    notifications.record(notice, booking.id, notice_json)
    return booking


def _checked(
    unit: Unit, reason: Reason, details: BookingDetails, now: datetime, discreet: bool
) -> tuple[Contact, str]:
    """The citizen's details checked and the pre-declaration sealed; one Invalid names every
    wrong field of both."""
    errors: dict[str, str] = {}
    contact, sealed = None, ""
    by_staff = details.channel == Channel.STAFF
    try:
        contact = validate_contact(
            details.name,
            details.email,
            details.phone,
            details.comment,
            unit.department,
            email_optional=discreet or by_staff,
        )
    except Invalid as error:
        errors.update(error.fields)
    if "phone" not in errors and not details.phone.strip():
        if details.mode == PHONE:
            errors["phone"] = PHONE_NEEDED
        elif by_staff and not details.email.strip():
            errors["phone"] = CONTACT_NEEDED
    try:
        today = now.astimezone(ZoneInfo(unit.timezone)).date()
        sealed = seal_answers(reason, details.pre_declaration, today)
    except Invalid as error:
        errors.update(error.fields)
    if contact is None or errors:
        raise Invalid(fields=errors)
    return contact, sealed


def _lock_and_recheck(
    unit: Unit, reason: Reason, start: datetime, now: datetime, mode: str
) -> None:
    """Under the unit's lock: check again, afresh, only if the unit changed since the check."""
    if lock_unit_version(unit.id) == unit.updated_at:
        return
    current = lock_unit(unit.id)
    if current is None or not current.active:
        raise SlotUnavailable()
    if slot_at(current, reason, start, now, mode=mode) is None:
        raise SlotUnavailable()


# Statements of the booking path, built once (building them costs more than running them).
_row = Booking.__table__.c
_REFERENCE_TAKEN = select(_row.id).where(_row.reference == bindparam("reference"))
_INSERT_BOOKING = insert(Booking.__table__).returning(_row.id)


def _mailbox_notice(prepared: Prepared, now: datetime) -> tuple[notifications.Notice, str]:
    """The mailbox's limit, under its lock, and the email the booking sends. A booking
    confirmed at once past the limit is refused (LimitReached: its answer goes to a partner
    or, verification off, to whoever typed the address). A hold to confirm from the email
    is made all the same, and answered as any other: its email, instead, tells the owner
    the limit is reached (SPEC §5)."""
    notice, text = prepared.notice, prepared.notice_json
    key = prepared.booking.email_key
    if prepared.values["channel"] == Channel.INVITATION:
        # An agent's link books once, for the person it was given to: no limit to check,
        # and so no answer that would tell whoever holds the link about an address.
        return notice, text
    if notice.kind != "verification":
        mailbox.check_limit(key, now)
        return notice, text
    mailbox.lock_mailbox(key)
    if mailbox.is_full(key, now):
        notice = replace(notice, kind="over_limit")
        return notice, notice.to_json()
    return notice, text


def _new_reference() -> str:
    """A short reference not used yet (checked before the write: collisions are rare)."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if run(_REFERENCE_TAKEN, {"reference": reference}).scalar() is None:
            return reference

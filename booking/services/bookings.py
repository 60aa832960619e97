"""Booking, cancelling and moving an appointment: each one transaction, emails included."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write
from booking.db_rules import is_overbooking
from booking.domain.zones import unit_timezone
from booking.extensions import db
from booking.models import Booking, BookingStatus
from booking.phones import e164
from booking.services import notifications
from booking.services.reasons import ReasonNotFound, get_reason
from booking.services.slots import occupies_desk, unit_slots
from booking.services.units import UnitNotFound, get_unit

# No 0/O, 1/I/L: a reference read over the phone or copied by hand stays unambiguous.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


class BookingError(Exception):
    """A booking request that cannot be honoured; `code` is stable, the message French."""

    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidBooking(BookingError):
    """Some fields are wrong; each has its French message."""


class SlotUnavailable(BookingError):
    """The slot is not (or no longer) offered."""

    code = "slot_unavailable"


class LimitReached(BookingError):
    """The email already holds as many upcoming bookings as allowed."""

    code = "limit_reached"


class BookingNotFound(BookingError):
    """No booking has this reference."""

    code = "booking_not_found"


class WrongToken(BookingError):
    """The secret of the link does not match."""

    code = "forbidden"


class NotChangeable(BookingError):
    """Already cancelled, honoured, or started."""

    code = "not_changeable"


@dataclass(frozen=True)
class Contact:
    """Who books, validated and normalised."""

    name: str
    email: str
    phone: str
    comment: str


@dataclass(frozen=True)
class BookingRequest:
    """What a citizen or a partner sends to book."""

    unit_id: str
    motif: str
    start: str
    name: str
    email: str
    phone: str = ""
    comment: str = ""


def validate_contact(name: str, email: str, phone: str, comment: str, department: str) -> Contact:
    """Check the citizen's details (SPEC §3); InvalidBooking names every wrong field."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not 2 <= len(name) <= 100:
        errors["name"] = "Indiquez votre nom (2 à 100 caractères)."
    try:
        # An SMTPUTF8 address could not be written in a plain message: refused up front.
        email = validate_email(
            email.strip(), check_deliverability=False, allow_smtputf8=False
        ).normalized
    except EmailNotValidError:
        errors["email"] = "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."
    phone = phone.strip()
    if phone:
        number = e164(phone, department)
        if number is None:
            errors["phone"] = "Numéro de téléphone français invalide (exemple : 06 12 34 56 78)."
        else:
            phone = number
    comment = comment.strip()
    if len(comment) > 500:
        errors["comment"] = "Le commentaire ne doit pas dépasser 500 caractères."
    if errors:
        raise InvalidBooking("Certains champs sont à corriger.", errors)
    return Contact(name, email, phone, comment)


def parse_start(value: str) -> datetime:
    """An aware datetime from ISO 8601 with an offset."""
    try:
        start = datetime.fromisoformat(value.strip())
    except ValueError:
        start = None
    if start is None or start.tzinfo is None or not 2000 <= start.year <= 2100:
        raise InvalidBooking(
            "Certains champs sont à corriger.",
            {
                "start": "Date et heure ISO 8601 avec décalage attendues"
                " (2026-11-24T09:00:00+01:00)."
            },
        )
    return start


def book(request: BookingRequest, now: datetime | None = None) -> tuple[Booking, str]:
    """Take a slot; return the booking and the secret of its cancel link (never stored)."""
    now = now or clock.now()
    start = parse_start(request.start)
    begin_write()
    unit = get_unit(request.unit_id)
    reason = get_reason(request.motif)
    contact = validate_contact(
        request.name, request.email, request.phone, request.comment, unit.department
    )
    expire_holds(now, unit.id)
    _check_email_limit(contact.email, now)
    _check_offered(unit.public_id, reason.code, start, now)
    verify = current_app.config["BOOKING_EMAIL_VERIFICATION"]
    uid = f"{uuid.uuid4()}@{_host()}"
    token = link_token(uid)
    booking = Booking(
        reference=_new_reference(),
        unit_id=unit.id,
        reason_code=reason.code,
        starts_at=start,
        ends_at=start + timedelta(minutes=reason.duration_minutes),
        status=BookingStatus.PENDING if verify else BookingStatus.CONFIRMED,
        hold_expires_at=(
            now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"]) if verify else None
        ),
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        comment=contact.comment,
        token_hash=hash_token(token),
        ics_uid=uid,
        ics_sequence=0,
        created_at=now,
        updated_at=now,
    )
    booking.unit, booking.reason = unit, reason
    db.session.add(booking)
    _flush_or_unavailable()
    if verify:
        notifications.verification(booking, token)
    else:
        notifications.confirmation(booking, token)
    _commit_or_unavailable()
    return booking, token


def confirm_booking(reference: str, token: str, now: datetime | None = None) -> Booking:
    """The citizen confirms a held booking from the email, before the hold expires."""
    now = now or clock.now()
    begin_write()
    booking = find_booking(reference, token)
    if booking.status == BookingStatus.CONFIRMED:
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
    notifications.confirmation(booking, token)
    _commit_or_unavailable()
    return booking


def expire_holds(now: datetime, unit_id: int | None = None) -> int:
    """Mark expired the holds nobody confirmed in time (in the caller's write transaction)."""
    query = update(Booking).where(
        Booking.status == BookingStatus.PENDING, Booking.hold_expires_at <= now
    )
    if unit_id is not None:
        query = query.where(Booking.unit_id == unit_id)
    result = db.session.execute(query.values(status=BookingStatus.EXPIRED, updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def find_booking(reference: str, token: str) -> Booking:
    """The booking of a manage link, when its secret matches."""
    booking = db.session.scalar(
        select(Booking)
        .where(Booking.reference == reference.strip().upper())
        .options(joinedload(Booking.unit), joinedload(Booking.reason))
    )
    if booking is None:
        raise BookingNotFound("Aucun rendez-vous ne porte cette référence.")
    if not hmac.compare_digest(booking.token_hash, hash_token(token)):
        raise WrongToken("Ce lien n'est pas valable pour ce rendez-vous.")
    return cast(Booking, booking)


def cancel_by_citizen(reference: str, token: str, now: datetime | None = None) -> Booking:
    """Cancel from the link of the email, until the start; the slot is free at once."""
    now = now or clock.now()
    begin_write()
    booking = find_booking(reference, token)
    _check_changeable(booking, now, holds_too=True)
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
    booking = find_booking(reference, token)
    _check_changeable(booking, now)
    _check_offered(booking.unit.public_id, booking.reason_code, start, now, exclude=booking.id)
    booking.starts_at = start
    booking.ends_at = start + timedelta(minutes=booking.reason.duration_minutes)
    booking.ics_sequence += 1
    booking.reminder_sent_at = None
    booking.updated_at = now
    _flush_or_unavailable()
    notifications.moved(booking, token)
    _commit_or_unavailable()
    return booking


def link_token(uid: str) -> str:
    """The secret of a booking's manage link: HMAC of its UID under SECRET_KEY.

    Derived rather than random so that a later email (the reminder) can carry the link
    again; only its hash is stored, so the database alone cannot forge or reveal one.
    """
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"manage-link:{uid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_token(token: str) -> str:
    """SHA-256 of a link secret: enough for a 256-bit secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_changeable(booking: Booking, now: datetime, holds_too: bool = False) -> None:
    """Only a confirmed booking (or a hold, to cancel it) that has not started can change."""
    allowed = (
        {BookingStatus.CONFIRMED, BookingStatus.PENDING} if holds_too else {BookingStatus.CONFIRMED}
    )
    if booking.status not in allowed:
        raise NotChangeable("Ce rendez-vous est déjà annulé ou terminé.")
    if booking.starts_at <= now:
        raise NotChangeable("Ce rendez-vous a déjà commencé : il ne peut plus être modifié.")


def _check_email_limit(email: str, now: datetime) -> None:
    """At most BOOKING_MAX_ACTIVE_PER_EMAIL upcoming active bookings per address."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise bookings of one address across units (SQLite has a single writer anyway).
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:email))"), {"email": email.lower()}
        )
    limit = current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"]
    active = db.session.scalar(
        select(func.count(Booking.id)).where(
            func.lower(Booking.email) == email.lower(),
            occupies_desk(now),
            Booking.ends_at > now,
        )
    )
    if (active or 0) >= limit:
        raise LimitReached(
            f"Cette adresse a déjà {limit} rendez-vous à venir : annulez-en un pour en prendre"
            " un autre."
        )


def _check_offered(
    public_id: str, reason_code: str, start: datetime, now: datetime, exclude: int | None = None
) -> None:
    """The start must be one of the slots offered now (the database re-checks the desks)."""
    try:
        day = start.astimezone(unit_timezone(get_unit(public_id).department)).date()
        found = unit_slots(public_id, reason_code, day, day, now=now, exclude_booking=exclude)
    except (UnitNotFound, ReasonNotFound):
        raise SlotUnavailable("Cette unité ne propose plus ce rendez-vous.") from None
    offered = found.slots
    if not any(slot.start == start for slot in offered):
        raise SlotUnavailable("Ce créneau n'est plus disponible : choisissez-en un autre.")


def _flush_or_unavailable() -> None:
    """Write now, so that the database's desk rule speaks before anything else is done."""
    _or_unavailable(db.session.flush)


def _commit_or_unavailable() -> None:
    """Commit; a late refusal by the desk rule is a lost race, not an error."""
    _or_unavailable(db.session.commit)


def _or_unavailable(write: Callable[[], None]) -> None:
    """Run a write; the desk rule's refusal becomes SlotUnavailable (a 409), not a 500."""
    try:
        write()
    except DBAPIError as error:
        db.session.rollback()
        if is_overbooking(error):
            raise SlotUnavailable(
                "Ce créneau vient d'être pris : choisissez-en un autre."
            ) from error
        raise


def _new_reference() -> str:
    """A short reference not used yet."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if db.session.scalar(select(Booking.id).where(Booking.reference == reference)) is None:
            return reference


def _host() -> str:
    """The host of BASE_URL, for calendar UIDs."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"

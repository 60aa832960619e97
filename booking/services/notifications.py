"""The emails that tell a citizen about their booking, with the calendar invitation."""

from __future__ import annotations

from typing import Any

from flask import current_app

from booking.domain.calendar import Appointment, invitation
from booking.formatting import day_fr, time_fr, when_fr
from booking.mail import compose, enqueue
from booking.models import Booking
from booking.urls import external_url

NEUTRAL_LABEL = "Rendez-vous à la gendarmerie"


def reason_label(booking: Booking) -> str:
    """The reason as an email may show it: neutral wording for a discreet reason."""
    return NEUTRAL_LABEL if booking.reason.discreet else booking.reason.label


def manage_url(booking: Booking, token: str) -> str:
    """The link of the email: a page that shows the booking; only its buttons change it."""
    return external_url("manage.show", reference=booking.reference, token=token)


def appointment(booking: Booking, manage: str = "") -> Appointment:
    """The calendar view of a booking."""
    unit = booking.unit
    lines = [reason_label(booking), f"Référence : {booking.reference}"]
    if booking.reason.documents:
        lines.append(f"À apporter : {booking.reason.documents}")
    if unit.phone:
        lines.append(f"Téléphone de l'unité : {unit.phone}")
    if manage:
        lines.append(f"Annuler ou déplacer : {manage}")
    sender = current_app.config["MAIL_FROM"]
    return Appointment(
        uid=booking.ics_uid,
        sequence=booking.ics_sequence,
        start=booking.starts_at,
        end=booking.ends_at,
        timezone=unit.timezone,
        summary=f"Rendez-vous – {unit.name}",
        description="\n".join(lines),
        location=unit.address or f"{unit.street} {unit.postcode} {unit.commune}",
        latitude=unit.latitude,
        longitude=unit.longitude,
        organizer_email=sender.rpartition("<")[2].rstrip(">").strip() or sender,
        organizer_name=unit.name,
        attendee_email=booking.email,
        attendee_name=booking.name,
        stamp=booking.updated_at,
    )


def _context(booking: Booking, **extra: Any) -> dict[str, Any]:
    """What every booking email shows."""
    unit = booking.unit
    return {
        "booking": booking,
        "unit": unit,
        "when": when_fr(booking.starts_at, unit.timezone),
        "reason_label": reason_label(booking),
        "documents": booking.reason.documents,
        "rebook_url": external_url("public.unit", public_id=unit.public_id),
        **extra,
    }


def _short_when(booking: Booking) -> str:
    """`mardi 24 novembre 2026 à 10 h 30` without the zone, for a subject line."""
    zone = booking.unit.timezone
    return f"{day_fr(booking.starts_at, zone)} à {time_fr(booking.starts_at, zone)}"


def confirmation(booking: Booking, token: str) -> None:
    """Booked: the confirmation with a REQUEST invitation."""
    _send_request(booking, token, "confirmation", "Rendez-vous confirmé")


def moved(booking: Booking, token: str) -> None:
    """Moved: a new REQUEST with the same UID and a higher SEQUENCE."""
    _send_request(booking, token, "moved", "Rendez-vous déplacé")


def verification(booking: Booking, token: str) -> None:
    """Held: the citizen must confirm from this email before the hold expires."""
    zone = booking.unit.timezone
    message = compose(
        to=booking.email,
        to_name=booking.name,
        subject=f"À confirmer : rendez-vous le {_short_when(booking)} – {booking.unit.name}",
        template="verification",
        context=_context(
            booking,
            manage_url=manage_url(booking, token),
            deadline=time_fr(booking.hold_expires_at or booking.created_at, zone),
        ),
    )
    enqueue(message, "verification", booking.id)


def reminder(booking: Booking, token: str) -> None:
    """The reminder before the appointment (no invitation: the event is already there)."""
    message = compose(
        to=booking.email,
        to_name=booking.name,
        subject=f"Rappel : rendez-vous le {_short_when(booking)} – {booking.unit.name}",
        template="reminder",
        context=_context(booking, manage_url=manage_url(booking, token)),
    )
    enqueue(message, "reminder", booking.id)


def cancellation(booking: Booking, by_unit_reason: str = "") -> None:
    """Cancelled by the citizen or by the unit: a CANCEL with the same UID."""
    message = compose(
        to=booking.email,
        to_name=booking.name,
        subject=f"Rendez-vous annulé : {_short_when(booking)} – {booking.unit.name}",
        template="cancellation",
        context=_context(booking, by_unit_reason=by_unit_reason),
        calendar=invitation(appointment(booking), "CANCEL"),
        calendar_method="CANCEL",
    )
    enqueue(message, "cancellation", booking.id)


def _send_request(booking: Booking, token: str, kind: str, title: str) -> None:
    """A REQUEST invitation email for a new or moved booking."""
    manage = manage_url(booking, token)
    message = compose(
        to=booking.email,
        to_name=booking.name,
        subject=f"{title} le {_short_when(booking)} – {booking.unit.name}",
        template="confirmation",
        context=_context(booking, manage_url=manage, moved=kind == "moved"),
        calendar=invitation(appointment(booking, manage), "REQUEST"),
        calendar_method="REQUEST",
    )
    enqueue(message, kind, booking.id)

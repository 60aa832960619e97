"""A booking's calendar event, as its emails attach it and its page offers it (SPEC §6):
in the booking's language, neutral for a discreet booking, and with no secret in it."""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from booking.domain.calendar import DISCREET_PRODUCT_ID, PRODUCT_ID, Appointment, invitation
from booking.domain.capacity import ON_SITE, PHONE, VIDEO
from booking.domain.words import N_
from booking.extensions import db
from booking.models import Booking
from booking.services.bookings.video import OPENS_BEFORE, room_url

if TYPE_CHECKING:
    from booking.services.messages.notifications import Notice

DISCREET_SUMMARY = N_("Rendez-vous")  # what a discreet booking's invitation is titled


def room_of(notice: Notice) -> str:
    """A video booking's room link as it stands when the email is written (a booking
    cancelled meanwhile has none): read from the booking, never copied into the outbox."""
    if notice.mode != VIDEO:
        return ""
    booking = db.session.scalar(select(Booking).where(Booking.ics_uid == notice.uid))
    return room_url(booking) if booking is not None else ""


def invitation_of(notice: Notice, method: str) -> bytes:
    """The calendar invitation of a notice (neutral for a discreet booking)."""
    product = DISCREET_PRODUCT_ID if notice.discreet else PRODUCT_ID
    return invitation(appointment(notice), method, product)


def appointment(notice: Notice) -> Appointment:
    """The calendar view of a notice's booking. No secret goes in it (the manage link stays
    in the email): a calendar is often shared, or synchronised to other devices. A discreet
    booking's event is titled "Rendez-vous" and gives the postal address alone. Its texts
    are in the booking's language."""
    with force_locale(notice.language):
        return _appointment(notice)


def _appointment(notice: Notice) -> Appointment:
    unit = notice.unit
    reference = gettext("Référence : %(reference)s", reference=notice.reference)
    if notice.discreet:
        lines = [reference]
        if unit.phone:
            lines.append(gettext("Téléphone : %(phone)s", phone=unit.phone))
        summary, location = gettext(DISCREET_SUMMARY), unit.place
        organizer = summary
    else:
        lines = [gettext(notice.reason_label), reference]
        if notice.documents:
            documents = gettext(notice.documents)
            if notice.mode == ON_SITE:
                lines.append(gettext("À apporter : %(documents)s", documents=documents))
            else:
                lines.append(gettext("À préparer : %(documents)s", documents=documents))
        if unit.phone:
            lines.append(gettext("Téléphone de l'unité : %(phone)s", phone=unit.phone))
        summary = gettext("Rendez-vous – %(unit)s", unit=unit.name)
        location, organizer = unit.address, unit.name
    conference = ""
    if notice.mode == PHONE:  # nowhere to go: the unit calls the number given
        location = gettext("Par téléphone : vous serez appelé(e) au numéro donné")
        lines.insert(0, location)
    elif notice.mode == VIDEO:
        conference = room_of(notice)
        location = gettext("En visio")
        if conference:
            lines.insert(
                0,
                gettext(
                    "En visio (ouvert %(minutes)d minutes avant) : %(link)s",
                    minutes=int(OPENS_BEFORE.total_seconds() // 60),
                    link=conference,
                ),
            )
    sender = current_app.config["MAIL_FROM"]
    return Appointment(
        uid=notice.uid,
        sequence=notice.sequence,
        start=notice.start,
        end=notice.end,
        timezone=unit.timezone,
        summary=summary,
        description="\n".join(lines),
        location=location,
        organizer_email=parseaddr(sender)[1] or sender,
        organizer_name=organizer,
        attendee_email=notice.email,
        attendee_name=notice.name,
        stamp=notice.stamp,
        conference=conference,
        latitude=unit.latitude if notice.mode == ON_SITE else None,
        longitude=unit.longitude if notice.mode == ON_SITE else None,
    )

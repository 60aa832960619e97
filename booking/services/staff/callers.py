"""Bookings an agent makes for a caller, from the workspace (SPEC §12): the caller's name
and an email or a phone number (no email: nothing is sent, the agent reads the reference
aloud or prints the card), the same slot engine and rules as online, the agent's unit
only (the view checks it), confirmed at once (the agent answers for whom they book) and
audited in the booking's own transaction."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from booking.extensions import db
from booking.keys import purpose_key
from booking.models import Booking, Channel, Reason, StaffUser, Unit
from booking.services.bookings.make import Booked, BookingDetails, book
from booking.services.bookings.once import Once
from booking.services.messages.notifications import manage_url
from booking.services.staff import audit
from booking.tokens import link_token


def book_for_caller(
    actor: StaffUser, unit: Unit, reason: Reason, details: BookingDetails, once: Once | None = None
) -> Booked:
    """Book for a caller; Invalid names every wrong field, SlotUnavailable a slot taken. The
    form's one-time key (`once`) makes a double click one booking."""
    details = replace(details, channel=Channel.STAFF, booked_by_id=actor.id)

    def audited(booking: Booking) -> None:
        after = {"motif": reason.code, "mode": booking.mode, "debut": booking.starts_at}
        audit.record(
            actor, "rendez-vous pris pour un appelant", unit, booking.reference, None, after
        )

    return book(unit, reason, details, once=once, trusted=True, within=audited)


def booking_of_unit(unit: Unit, reference: str) -> Booking | None:
    """The unit's booking of this reference (another unit's is not found)."""
    found: Booking | None = db.session.scalar(
        select(Booking).where(
            Booking.unit_id == unit.id, Booking.reference == reference.strip().upper()[:12]
        )
    )
    return found


def manage_link(booking: Booking) -> str:
    """The booking's own link (to cancel or move it), its secret derived again: printed
    on the card given to a caller at the desk, who has no email to find it in."""
    return manage_url(booking, link_token(booking.ics_uid, purpose_key("links")))

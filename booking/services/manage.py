"""What the page of a booking's link shows: where it stands, and what can still be done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking import clock
from booking.domain.slots import Slot
from booking.models import Booking, BookingStatus
from booking.services.bookings import can_change, find_booking, is_held
from booking.services.slots import unit_slots


@dataclass(frozen=True)
class ManagePage:
    """A booking as its citizen sees it, with the slots it could move to."""

    booking: Booking
    status: BookingStatus  # as it stands now: a hold past its expiry reads as expired
    changeable: bool
    held: bool
    move_slots: list[Slot]


def manage_page(reference: str, token: str, now: datetime | None = None) -> ManagePage:
    """The booking of a link (WrongLink if the link is wrong) and what it allows now."""
    now = now or clock.now()
    booking = find_booking(reference, token)
    changeable, held = can_change(booking, now), is_held(booking, now)
    status = BookingStatus(booking.status)
    if status == BookingStatus.PENDING and not held:
        status = BookingStatus.EXPIRED
    others: list[Slot] = []
    # A unit closed for good, or a reason withdrawn, leaves cancelling only.
    if changeable and booking.unit.active and booking.reason.active:
        found = unit_slots(booking.unit, booking.reason, now=now, exclude_booking=booking.id)
        others = [slot for slot in found.slots if slot.start != booking.starts_at]
    return ManagePage(booking, status, changeable, held, others)

"""What the page of a booking's link shows: where it stands, and what can still be done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking import clock
from booking.domain.slots import Slot
from booking.models import Booking, BookingStatus
from booking.services.bookings.change import can_change, find_booking, is_held
from booking.services.slots.offered import last_week, week_slots


@dataclass(frozen=True)
class ManagePage:
    """A booking as its citizen sees it, with the slots of one week it could move to."""

    booking: Booking
    status: BookingStatus  # as it stands now: a hold past its expiry reads as expired
    changeable: bool
    held: bool
    move_slots: list[Slot]
    week: int = 0  # as the journey pages the horizon: 0 = the unit's today and 6 days
    first_day: date | None = None
    last_day: date | None = None

    @property
    def more(self) -> bool:
        """Whether a later week of the horizon can be shown."""
        return self.week < last_week()


def manage_page(
    reference: str, token: str, week: int = 0, now: datetime | None = None
) -> ManagePage:
    """The booking of a link (WrongLink if the link is wrong), what it allows now, and the
    slots of the `week`-th week it could move to."""
    now = now or clock.now()
    week = max(0, min(week, last_week()))
    booking = find_booking(reference, token)
    changeable, held = can_change(booking, now), is_held(booking, now)
    status = BookingStatus(booking.status)
    if status == BookingStatus.PENDING and not held:
        status = BookingStatus.EXPIRED
    # A unit closed for good, a reason withdrawn, or its mode no longer offered for it,
    # leaves cancelling only.
    movable = booking.unit.active and booking.reason.active
    if not (changeable and movable and booking.mode in booking.reason.mode_list):
        return ManagePage(booking, status, changeable, held, [])
    found = week_slots(
        booking.unit, booking.reason, week, now, exclude_booking=booking.id, mode=booking.mode
    )
    others = [slot for slot in found.slots if slot.start != booking.starts_at]
    return ManagePage(
        booking, status, changeable, held, others, week, found.first_day, found.last_day
    )

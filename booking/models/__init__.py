"""Typed ORM models: what is stored, with no business rules and no commits.

One module per family of tables; every model is importable from `booking.models`. The
database's own rules (the desk trigger, the change counters) are attached here, once all
tables are known.
"""

from booking import db_rules
from booking.extensions import db
from booking.models.bookings import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Channel,
    OutboxMessage,
    SubmittedOnce,
    drawing_on,
    holding_seat,
)
from booking.models.orientation import OrientationCount
from booking.models.places import Place
from booking.models.staff import (
    AuditEntry,
    CalendarFeed,
    Invitation,
    RecoveryCode,
    RunnerHeartbeat,
    StaffSession,
    StaffUser,
    staff_units,
)
from booking.models.statistics import SlotDelay, StatisticsState, WeeklyFigure
from booking.models.types import UTCDateTime, now_default
from booking.models.units import Closure, OpeningRange, Reason, Unit
from booking.models.waitlist import (
    ApiKey,
    EntryStatus,
    OfferStatus,
    SpentChallenge,
    WaitlistEntry,
    WaitlistOffer,
    waitlist_units,
)

db_rules.attach(db.metadata)

__all__ = [
    "ApiKey",
    "RecoveryCode",
    "StaffSession",
    "EntryStatus",
    "OfferStatus",
    "SpentChallenge",
    "WaitlistEntry",
    "WaitlistOffer",
    "waitlist_units",
    "ACTIVE_STATUSES",
    "AuditEntry",
    "Booking",
    "BookingStatus",
    "CalendarFeed",
    "Channel",
    "Invitation",
    "Closure",
    "OrientationCount",
    "OpeningRange",
    "OutboxMessage",
    "Place",
    "Reason",
    "RunnerHeartbeat",
    "StaffUser",
    "SlotDelay",
    "StatisticsState",
    "SubmittedOnce",
    "UTCDateTime",
    "Unit",
    "WeeklyFigure",
    "now_default",
    "drawing_on",
    "holding_seat",
    "staff_units",
]

"""The bookings made, week by week of their creation (Paris time): by channel, by mode, per
unit, and the days from booking to visit. The population is every booking confirmed at some
point (neither a hold still pending nor one that expired).

Read in one pass, plain values a row (the UTC hour of creation as text, the lead time in
seconds: no datetime object is made), with a server-side cursor on PostgreSQL, and counted
in Python: the lead times' quantiles need every value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import select

from booking.domain.figures import HourWeeks, is_masked, quantile
from booking.extensions import db
from booking.models import Booking, BookingStatus, Reason, Unit
from booking.services.statistics.family import (
    Counts,
    Family,
    Figure,
    counted,
    seconds_between,
    utc_hour,
)

INDICATORS = (
    "bookings_by_channel",
    "bookings_by_mode",
    "lead_days_p50",
    "lead_days_p90",
    "unit_bookings",
)
NEVER_CONFIRMED = (BookingStatus.PENDING, BookingStatus.EXPIRED)
DAY_SECONDS = 86_400.0
BATCH = 20_000  # rows fetched at a time


def made_family(now: datetime, since: datetime | None) -> Family:
    """The bookings made from `since` (None: all of them)."""
    hidden = set(db.session.scalars(select(Reason.code).where(Reason.discreet.is_(True))))
    channels, modes, units = Counts(), Counts(), Counter[tuple[str, int]]()
    leads: defaultdict[str, list[float]] = defaultdict(list)
    weeks = HourWeeks()
    statement = select(
        utc_hour(Booking.created_at),
        seconds_between(Booking.created_at, Booking.starts_at),
        Booking.channel,
        Booking.mode,
        Booking.discreet,
        Booking.reason_code,
        Booking.unit_id,
    ).where(Booking.status.not_in(NEVER_CONFIRMED))
    if since is not None:
        statement = statement.where(Booking.created_at >= since)
    rows = db.session.connection().execute(statement.execution_options(yield_per=BATCH))
    for hour, lead, channel, mode, discreet, reason, unit in rows:
        week = weeks[hour]
        channels[week, channel] += 1
        modes[week, mode] += 1
        leads[week].append(lead)
        # A discreet reason, or a visit made discreet, is never counted per unit.
        if not discreet and reason not in hidden:
            units[week, unit] += 1
    family = counted({"bookings_by_channel": channels, "bookings_by_mode": modes})
    family.figures += _lead_days(leads) + _per_unit(units)
    return family


def _lead_days(leads: dict[str, list[float]]) -> list[Figure]:
    """The median and 90th percentile of the days from booking to visit, a week's."""
    found = []
    for week, seconds in leads.items():
        seconds.sort()
        for indicator, share in (("lead_days_p50", 0.5), ("lead_days_p90", 0.9)):
            days = round(quantile(seconds, share) / DAY_SECONDS, 1)
            found.append(Figure(week, indicator, "", days))
    return found


def _per_unit(units: Counter[tuple[str, int]]) -> list[Figure]:
    """Each unit's count by its public identifier; under 5, masked and not kept."""
    public_ids = dict(db.session.execute(select(Unit.id, Unit.public_id)).all())
    found = []
    for (week, unit), count in units.items():
        masked = is_masked(count)
        value = 0.0 if masked else float(count)
        found.append(Figure(week, "unit_bookings", public_ids[unit], value, masked))
    return found

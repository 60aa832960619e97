"""How long a hold lasts: a slot held for someone who must confirm it from an email.

An offer of the waiting list made at night is lost by everyone asleep: one made between
21:00 and 08:00 in the unit's zone is held until 10:00 the next morning, and never for less
than the usual time. Such an offer, let expire, says nothing of the person's interest: it
does not count towards ending their registration.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

NIGHT_FROM, NIGHT_UNTIL = time(21, 0), time(8, 0)
MORNING_DEADLINE = time(10, 0)


def is_night(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether an instant falls between 21:00 and 08:00 in the zone."""
    local = instant.astimezone(zone).time()
    return local >= NIGHT_FROM or local < NIGHT_UNTIL


def hold_until(made_at: datetime, zone: ZoneInfo, minutes: int) -> datetime:
    """When a hold made at `made_at` ends: `minutes` later, or, for one made at night in
    the zone, at 10:00 the next morning (local time) if that is later."""
    usual = made_at + timedelta(minutes=minutes)
    if not is_night(made_at, zone):
        return usual
    local = made_at.astimezone(zone)
    morning = local.date() + timedelta(days=1 if local.time() >= NIGHT_FROM else 0)
    # A wall time that does not exist (a DST gap) lands after the gap, as elsewhere.
    deadline = datetime.combine(morning, MORNING_DEADLINE, zone)
    return max(usual, deadline)

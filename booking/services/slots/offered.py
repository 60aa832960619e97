"""The slots a unit offers for a reason, as views and services ask for them.

Every function here reads through one of the two reads of `read` and computes with the
domain's slot engine (`booking.domain.slots`): the slots endpoint, the unit page, a start
checked before booking or moving, the move page and the waiting list's matcher all use
`read_unit_days`, the first slots of many units `read_busy`. So they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from booking import clock
from booking.domain.capacity import DESKS, ON_SITE, VIDEO, draws_on
from booking.domain.slots import Slot, SlotQuery, first_offered_slot, offered_slot_at, offered_slots
from booking.domain.words import N_, Text
from booking.domain.zones import local_today
from booking.errors import Invalid, ModeUnavailable, ReasonNotFound, ServiceError, UnitNotFound
from booking.extensions import db
from booking.models import Reason, Unit
from booking.services.reasons import ReasonTerms
from booking.services.slots.read import Busy, UnitDays, UnitView, read_busy, read_unit_days
from booking.services.units.reading import hours_by_unit, scheduled_hours, weekly_hours

# The instants of a local date, in any zone (UTC−12 to UTC+14), and the visits that meet
# its slots, lie between the day before it and two days after it begins.
BEFORE, AFTER = timedelta(days=1), timedelta(days=2)


@dataclass(frozen=True)
class Policy:
    """How far ahead and how late a slot can be booked (SPEC §3.5)."""

    min_notice: timedelta
    horizon_days: int


@dataclass(frozen=True)
class UnitSlots:
    """A unit's offered slots for a reason over a period of local dates."""

    unit: Unit
    reason: Reason
    first_day: date
    last_day: date
    slots: list[Slot]


@dataclass(frozen=True)
class SlotsAnswer:
    """A unit's offered slots for a reason over local dates, read in one statement, with the
    version of the unit they were computed from (see booking.services.slots.cache)."""

    unit_id: int
    timezone: str
    version: tuple[Any, ...]
    reason: ReasonTerms
    slots: list[Slot]


def policy() -> Policy:
    """The booking policy of the running configuration."""
    config = current_app.config
    return Policy(
        min_notice=timedelta(minutes=config["BOOKING_MIN_NOTICE_MINUTES"]),
        horizon_days=config["BOOKING_HORIZON_DAYS"],
    )


def booking_window(unit: Unit | UnitView, now: datetime) -> tuple[date, date]:
    """The local dates a citizen can book at this unit: today .. today + horizon."""
    today = local_today(unit.department, now)
    return today, today + timedelta(days=policy().horizon_days)


def last_week() -> int:
    """Index of the last week a citizen can page to (week 0 starts today)."""
    return policy().horizon_days // 7


def covering(
    first_day: date | None, last_day: date | None, now: datetime, rules: Policy
) -> tuple[datetime, datetime]:
    """The instants that can hold a slot of the local dates first..last (either may be
    None: from today, up to the horizon), in any zone: the whole horizon with its margin,
    narrowed to the dates asked with their margin. Any date of the calendar is accepted
    (years 1 to 9999): dates are brought inside the horizon before any arithmetic."""
    low, high = now - AFTER, now + timedelta(days=rules.horizon_days) + AFTER
    if first_day is not None and first_day > low.date():
        low = max(low, datetime.combine(first_day, time(), UTC) - BEFORE)
    if last_day is not None and last_day < high.date():
        high = min(high, datetime.combine(last_day, time(), UTC) + AFTER)
    return low, max(low, high)


def slot_query(
    view: UnitView, duration_minutes: int, busy: Busy, now: datetime, rules: Policy
) -> SlotQuery:
    """What the slot engine needs to know of one unit, as plain values."""
    return SlotQuery(
        hours=view.hours,
        department=view.department,
        duration_minutes=duration_minutes,
        desks=view.desks,
        later=view.later,
        closures=busy.closures.get(view.id, []),
        bookings=busy.bookings.get(view.id, []),
        now=now,
        min_notice=rules.min_notice,
        horizon_days=rules.horizon_days,
    )


# How pages name each mode (marked: said in the page's language where they are shown).
MODE_NAMES = {
    "on_site": N_("sur place, à l'unité"),
    "phone": N_("par téléphone"),
    "video": N_("en visio"),
}


def offered_modes(unit: Unit, reason: Reason) -> list[str]:
    """The modes a citizen may book this reason in at this unit: those the reason allows,
    remote ones only where the unit has remote lines (and video where a provider is set)."""
    remote = unit.remote_lines > 0
    video = bool(current_app.config["VIDEO_ROOM_URL"])
    return [
        mode
        for mode in reason.mode_list
        if mode == ON_SITE or (remote and (mode != VIDEO or video))
    ]


def mode_refused(mode: str) -> ServiceError:
    """The error of a mode the reason does not allow (ModeUnavailable), or that is no mode
    (Invalid)."""
    name = MODE_NAMES.get(mode)
    if name is None:
        return Invalid(N_("Mode de rendez-vous inconnu."), {"mode": N_("on_site, phone ou video")})
    message = Text("Ce motif ne se traite pas %(mode)s.", mode=name)
    return ModeUnavailable(message, {"mode": message})


def _unit_days(
    public_id: str,
    motif: str,
    span: tuple[datetime, datetime],
    now: datetime,
    moved: int | None = None,
    reason_must_be_active: bool = True,
    mode: str = ON_SITE,
) -> tuple[UnitDays, int]:
    """One read of a unit and a reason in a mode; UnitNotFound, ReasonNotFound or (a mode
    the reason does not allow) Invalid, else the read and the reason's duration."""
    found = read_unit_days(public_id, motif, span, now, moved or 0, mode)
    if found is None:
        raise UnitNotFound()
    if found.duration is None or (reason_must_be_active and not found.reason_active):
        raise ReasonNotFound()
    if mode not in found.reason_modes:
        raise mode_refused(mode)
    return found, found.duration


def answer_slots(
    public_id: str,
    motif: str,
    days: tuple[date | None, date | None],
    now: datetime,
    mode: str = ON_SITE,
) -> SlotsAnswer:
    """The offered slots of an active unit for an active reason in a mode over local dates
    (default: the unit's today .. horizon), from one statement: what the slots endpoint
    answers."""
    rules = policy()
    span = covering(*days, now, rules)
    found, duration = _unit_days(public_id, motif, span, now, mode=mode)
    query = slot_query(found.view, duration, found.busy, now, rules)
    slots = offered_slots(query, *days)
    return SlotsAnswer(
        found.view.id, found.timezone, found.version, ReasonTerms(motif, duration), slots
    )


def unit_slots(
    unit: Unit,
    reason: Reason,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
    exclude_booking: int | None = None,
    mode: str = ON_SITE,
) -> UnitSlots:
    """Offered slots of a unit for a reason in a mode, local dates first..last (default:
    the horizon).

    An inverted period holds no date, and dates beyond the horizon hold no slot: both are
    answered with the slots they do hold. `exclude_booking` leaves one booking out of the
    occupancy: the one being moved.
    """
    now = now or clock.now()
    rules = policy()
    today, horizon = booking_window(unit, now)
    first_day, last_day = first_day or today, last_day or horizon
    span = covering(first_day, last_day, now, rules)
    found, duration = _unit_days(
        unit.public_id, reason.code, span, now, exclude_booking, False, mode
    )
    query = slot_query(found.view, duration, found.busy, now, rules)
    return UnitSlots(unit, reason, first_day, last_day, offered_slots(query, first_day, last_day))


def week_slots(
    unit: Unit,
    reason: Reason,
    week: int,
    now: datetime | None = None,
    exclude_booking: int | None = None,
    mode: str = ON_SITE,
) -> UnitSlots:
    """Offered slots of the `week`-th week from the unit's today (0 = today and 6 days);
    `exclude_booking` as for `unit_slots`."""
    now = now or clock.now()
    today, horizon = booking_window(unit, now)
    first = today + timedelta(days=7 * week)
    last = min(first + timedelta(days=6), horizon)
    if first > horizon:
        return UnitSlots(unit, reason, first, first, [])
    return unit_slots(unit, reason, first, last, now, exclude_booking, mode)


def slot_at(
    unit: Unit,
    reason: Reason,
    start: datetime,
    now: datetime | None = None,
    exclude_booking: int | None = None,
    mode: str = ON_SITE,
) -> Slot | None:
    """The slot starting at `start` if the unit offers it now in `mode`: one start checked,
    the occupancy read for the visit's own span only."""
    now = now or clock.now()
    span = (start, start + timedelta(minutes=reason.duration_minutes))
    found, duration = _unit_days(
        unit.public_id, reason.code, span, now, exclude_booking, False, mode
    )
    return offered_slot_at(slot_query(found.view, duration, found.busy, now, policy()), start)


def seats(unit: Unit, mode: str) -> int:
    """The seats of the unit's capacity that `mode` draws on: desks, or remote lines."""
    return unit.desks if draws_on(mode) == DESKS else unit.remote_lines


def first_slots(
    units: Sequence[Unit], reason: Reason, now: datetime | None = None, mode: str = ON_SITE
) -> dict[int, Slot | None]:
    """The first offered slot of each unit for a reason in a mode (units loaded with their
    hours); none in a mode the reason does not allow."""
    views = [UnitView(unit.id, unit.department, seats(unit, mode), *_hours(unit)) for unit in units]
    return _first_slots(views, reason, now, [view.id for view in views], mode)


def _hours(unit: Unit) -> tuple[Any, Any]:
    """A loaded unit's weekly hours and the hours set from a later date."""
    return weekly_hours(unit), scheduled_hours(unit)


def all_first_slots(
    reason: Reason, now: datetime | None = None, mode: str = ON_SITE
) -> dict[int, Slot | None]:
    """The first offered slot of every active unit: plain rows, three reads in all."""
    hours = hours_by_unit()
    column = Unit.desks if draws_on(mode) == DESKS else Unit.remote_lines
    rows = db.session.execute(select(Unit.id, Unit.department, column).where(Unit.active.is_(True)))
    views = [
        UnitView(i, department, desks, *hours.get(i, ({}, None))) for i, department, desks in rows
    ]
    return _first_slots(views, reason, now, None, mode)


def _first_slots(
    views: list[UnitView],
    reason: Reason,
    now: datetime | None,
    unit_ids: list[int] | None,
    mode: str = ON_SITE,
) -> dict[int, Slot | None]:
    """The first offered slot of each unit (`unit_ids`: whose busy spans to read, or None
    for every unit)."""
    if mode not in reason.mode_list:
        return {view.id: None for view in views}
    now = now or clock.now()
    rules = policy()
    busy = read_busy(unit_ids, covering(None, None, now, rules), now, mode)
    duration = reason.duration_minutes
    return {
        view.id: first_offered_slot(slot_query(view, duration, busy, now, rules)) for view in views
    }

"""The daily measure of the delay to the first free slot (SPEC §14): every morning at 06:00
Paris time, for every active unit and every active reason, on site, over the booking
horizon; kept per département and for France as a whole (`slot_delays`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from booking import clock
from booking.database import begin_write
from booking.domain.capacity import ON_SITE
from booking.domain.figures import PARIS, paris_day, quantile
from booking.domain.slots import Slot
from booking.extensions import db
from booking.models import Reason, SlotDelay, Unit
from booking.services.slots.offered import all_first_slots
from booking.services.statistics.refresh import locked_state

log = logging.getLogger(__name__)

MEASURE_HOUR = 6  # every morning, Paris time
FRANCE = ""  # the département of the rows for France as a whole
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Measure:
    """The delays of the units of one département (or France) for one reason."""

    department: str
    reason_code: str
    units: int
    units_without: int
    median_days: float | None
    p90_days: float | None


def measure_delays(now: datetime | None = None) -> int:
    """Measure today's delays (Paris date) and keep them, replacing any measure of the same
    day; return how many rows were written."""
    now = now or clock.now()
    departments = dict(
        db.session.execute(select(Unit.id, Unit.department).where(Unit.active.is_(True))).all()
    )
    reasons = db.session.scalars(
        select(Reason).where(Reason.active.is_(True)).order_by(Reason.position)
    ).all()
    measures: list[Measure] = []
    for reason in reasons:
        if ON_SITE in reason.mode_list:
            firsts = all_first_slots(reason, now, ON_SITE)
            measures += delays_by_department(reason.code, firsts, departments, now)
    day = paris_day(now)
    begin_write()
    state = locked_state()
    db.session.execute(delete(SlotDelay).where(SlotDelay.measured_on == day))
    if measures:
        db.session.execute(
            insert(SlotDelay), [{"measured_on": day, **vars(measure)} for measure in measures]
        )
    state.delays_measured_at = now
    db.session.commit()
    log.info("slot delays measured: %d rows for %s", len(measures), day.isoformat())
    return len(measures)


def measure_if_missed(now: datetime | None = None) -> int:
    """Measure now if this morning's measure was missed (the job runner was down at 06:00,
    Paris time): what a runner does when it takes the lead. Return the rows written."""
    now = now or clock.now()
    local = now.astimezone(PARIS)
    if local.hour < MEASURE_HOUR:
        return 0
    done = db.session.scalar(
        select(SlotDelay.measured_on).where(SlotDelay.measured_on == local.date()).limit(1)
    )
    return 0 if done else measure_delays(now)


def delays_by_department(
    reason_code: str,
    firsts: dict[int, Slot | None],
    departments: dict[int, str],
    now: datetime,
) -> list[Measure]:
    """The measures of one reason, per département and for France, from each unit's first
    slot (None: no free slot over the horizon)."""
    groups: defaultdict[str, list[Slot | None]] = defaultdict(list)
    for unit_id, slot in firsts.items():
        department = departments.get(unit_id)
        if department is None:  # made active since the departments were read
            continue
        groups[department].append(slot)
        groups[FRANCE].append(slot)
    return [
        _measure(department, reason_code, slots, now)
        for department, slots in sorted(groups.items())
    ]


def _measure(department: str, reason_code: str, slots: list[Slot | None], now: datetime) -> Measure:
    """The median and 90th percentile of the delays, in days, over the units with a slot."""
    delays = sorted(
        (slot.start - now).total_seconds() / DAY_SECONDS for slot in slots if slot is not None
    )
    median = round(quantile(delays, 0.5), 2) if delays else None
    p90 = round(quantile(delays, 0.9), 2) if delays else None
    return Measure(department, reason_code, len(slots), len(slots) - len(delays), median, p90)

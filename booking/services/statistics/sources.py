"""Every source of the weekly figures, with the indicators it gives: a new figure is its
computation here (or in a module of its own, as `made`), its name in
booking.domain.figures, then the page.

Each source is read from an instant on (`since`: the first week still open), or whole
(None) when one of its indicators has no figure yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select

from booking.domain.figures import day_week, paris_day
from booking.extensions import db
from booking.models import (
    Booking,
    BookingStatus,
    OfferStatus,
    OrientationCount,
    OutboxMessage,
    SlotDelay,
    WaitlistOffer,
)
from booking.services.statistics import made
from booking.services.statistics.family import Counts, Family, Figure, counted, weekly_counts

OUTCOMES = (
    BookingStatus.HONOURED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED_BY_CITIZEN,
    BookingStatus.CANCELLED_BY_UNIT,
)


def visits_family(now: datetime, since: datetime | None) -> Family:
    """Past visits by outcome (week of their start; a cancellation once its start is past
    too), and no_show_rate = no_show / (honoured + no_show) when some came or missed."""
    outcomes = weekly_counts(
        Booking.starts_at,
        Booking.status.in_(OUTCOMES),
        Booking.starts_at < now,
        by=Booking.status,
        since=since,
    )
    family = counted({"visits_by_outcome": outcomes})
    for week in family.weeks:
        missed = outcomes[week, BookingStatus.NO_SHOW]
        seen = outcomes[week, BookingStatus.HONOURED] + missed
        if seen:
            family.figures.append(Figure(week, "no_show_rate", "", round(missed / seen, 4)))
    return family


def email_family(now: datetime, since: datetime | None) -> Family:
    """Emails sent (week sent), retried (sent or dropped after more than one attempt, week
    written) and failed (week dropped)."""
    done = OutboxMessage.sent_at.is_not(None) | OutboxMessage.dropped_at.is_not(None)
    retried = (done, OutboxMessage.attempts > 1)
    return counted(
        {
            "emails_sent": weekly_counts(OutboxMessage.sent_at, since=since),
            "emails_retried": weekly_counts(OutboxMessage.created_at, *retried, since=since),
            "emails_failed": weekly_counts(OutboxMessage.dropped_at, since=since),
        }
    )


def waitlist_family(now: datetime, since: datetime | None) -> Family:
    """Waiting-list offers made (week made) and accepted (week answered)."""
    accepted = WaitlistOffer.status == OfferStatus.ACCEPTED
    return counted(
        {
            "waitlist_offers_made": weekly_counts(WaitlistOffer.created_at, since=since),
            "waitlist_offers_accepted": weekly_counts(
                WaitlistOffer.closed_at, accepted, since=since
            ),
        }
    )


def orientation_family(now: datetime, since: datetime | None) -> Family:
    """The orienteur's outcomes, from its counts per day (Paris)."""
    statement = select(OrientationCount.day, OrientationCount.outcome, OrientationCount.count)
    if since is not None:
        statement = statement.where(OrientationCount.day >= paris_day(since))
    outcomes = Counts()
    for day, outcome, count in db.session.execute(statement):
        outcomes[day_week(day), outcome] += count
    return counted({"orientation_outcomes": outcomes})


def delay_family(now: datetime, since: datetime | None) -> Family:
    """first_slot_days per département and reason (`01|otv`; France: `|otv`): the median
    of the week's daily medians."""
    statement = select(
        SlotDelay.measured_on, SlotDelay.department, SlotDelay.reason_code, SlotDelay.median_days
    )
    if since is not None:
        statement = statement.where(SlotDelay.measured_on >= paris_day(since))
    family = Family()
    measures: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for day, department, reason, days in db.session.execute(statement):
        week = day_week(day)
        family.weeks.add(week)
        if days is not None:
            measures[week, f"{department}|{reason}"].append(days)
    family.figures += [
        Figure(week, "first_slot_days", dimension, round(median(values), 1))
        for (week, dimension), values in measures.items()
    ]
    return family


@dataclass(frozen=True)
class Source:
    """A source, the indicators it gives, and how to compute them from an instant on."""

    indicators: tuple[str, ...]
    compute: Callable[[datetime, datetime | None], Family]


SOURCES = (
    Source(made.INDICATORS, made.made_family),
    Source(("visits_by_outcome", "no_show_rate"), visits_family),
    Source(("emails_sent", "emails_retried", "emails_failed"), email_family),
    Source(("orientation_outcomes",), orientation_family),
    Source(("waitlist_offers_made", "waitlist_offers_accepted"), waitlist_family),
    Source(("first_slot_days",), delay_family),
)

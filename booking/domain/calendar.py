"""Calendar invitations (.ics) for an appointment, and the staff's read-only feed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vText,
    vUri,
)

PRODUCT_ID = "-//Rendez-vous en gendarmerie//FR"
DISCREET_PRODUCT_ID = "-//Rendez-vous//FR"  # what a discreet invitation says of its maker
# RFC 7986's CONFERENCE of a video appointment: a link, for sound and image.
CONFERENCE_PARAMETERS: dict[str, Any] = {
    "VALUE": "URI",
    "FEATURE": ["AUDIO", "VIDEO"],
    "LABEL": "Rejoindre la visio",
}


@dataclass(frozen=True)
class Appointment:
    """What a calendar client needs to know of one appointment."""

    uid: str
    sequence: int
    start: datetime  # aware
    end: datetime  # aware
    timezone: str
    summary: str
    description: str
    location: str
    latitude: float | None
    longitude: float | None
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    cancelled: bool = False
    stamp: datetime | None = None  # DTSTAMP: when this version was made
    conference: str = ""  # a video appointment's room link (RFC 7986 CONFERENCE)


def invitation(appointment: Appointment, method: str, product: str = PRODUCT_ID) -> bytes:
    """An iTIP message: `REQUEST` for a new or moved appointment, `CANCEL` for a cancelled one."""
    if method not in {"REQUEST", "CANCEL"}:
        raise ValueError(method)
    return _calendar([appointment], method, product=product)


def calendar_file(appointment: Appointment, product: str = PRODUCT_ID) -> bytes:
    """One appointment as a file to open in a calendar (`METHOD:PUBLISH`): what a citizen
    who gave no email address downloads from the confirmation page."""
    return _calendar([appointment], "PUBLISH", product=product)


def feed(appointments: Iterable[Appointment], name: str) -> bytes:
    """A read-only calendar (`METHOD:PUBLISH`) of a unit's appointments."""
    return _calendar(list(appointments), "PUBLISH", name=name)


def _calendar(
    appointments: list[Appointment], method: str, name: str = "", product: str = PRODUCT_ID
) -> bytes:
    """Build the VCALENDAR with one VEVENT per appointment and the VTIMEZONEs they use."""
    calendar = Calendar()
    calendar.add("prodid", product)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    if appointments:
        # A short range keeps the VTIMEZONE small: a year around the appointments.
        first = min(appointment.start for appointment in appointments).date()
        last = max(appointment.end for appointment in appointments).date()
        for name in sorted({appointment.timezone for appointment in appointments}):
            calendar.add_component(
                vtimezone(name, first - timedelta(days=366), last + timedelta(days=366))
            )
    for appointment in appointments:
        calendar.add_component(_event(appointment, method))
    return bytes(calendar.to_ical())


def vtimezone(name: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE of a zone between two dates, from zoneinfo's own transitions.

    Written here rather than by icalendar's `add_missing_timezones`, which puts the spring
    change an hour late (DTSTART must be the wall time before the change: 02:00 in Paris).
    """
    zone = ZoneInfo(name)
    component = Timezone()
    component.add("tzid", name)
    start = datetime.combine(first, time(), UTC)
    instant = start.astimezone(zone)
    component.add_component(_observance(instant, instant.utcoffset(), instant))
    for change in _transitions(zone, start, datetime.combine(last, time(), UTC)):
        before = (change - timedelta(minutes=1)).astimezone(zone).utcoffset() or timedelta()
        component.add_component(_observance(change.astimezone(zone), before, change + before))
    return component


def _observance(
    local: datetime, offset_from: timedelta | None, wall_start: datetime
) -> TimezoneStandard | TimezoneDaylight:
    """One STANDARD or DAYLIGHT block, starting at `wall_start` in the offset before it."""
    observance = TimezoneDaylight() if local.dst() else TimezoneStandard()
    observance.add("dtstart", wall_start.replace(tzinfo=None))
    observance.add("tzname", local.tzname())
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", local.utcoffset())
    return observance


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants, to the minute, at which the zone's offset changes within [start, end)."""
    changes = []
    day = start
    while day < end:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = 0, 24 * 60  # minutes after `day`: same offset at low, new at high
            while high - low > 1:
                middle = (low + high) // 2
                moment = day + timedelta(minutes=middle)
                if moment.astimezone(zone).utcoffset() == day.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            changes.append(day + timedelta(minutes=high))
        day = following
    return changes


def _event(appointment: Appointment, method: str) -> Event:
    """One VEVENT."""
    zone = ZoneInfo(appointment.timezone)
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", appointment.stamp or appointment.start)
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", appointment.summary)
    event.add("description", appointment.description)
    event.add("location", appointment.location)
    if appointment.conference:
        event.add(
            "conference",
            vUri(appointment.conference),
            parameters=CONFERENCE_PARAMETERS,
        )
    if appointment.latitude is not None and appointment.longitude is not None:
        event.add("geo", (appointment.latitude, appointment.longitude))
    cancelled = appointment.cancelled or method == "CANCEL"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{appointment.organizer_email}")
    organizer.params["cn"] = vText(appointment.organizer_name)
    event.add("organizer", organizer)
    if not appointment.attendee_email:  # a file downloaded by a citizen who gave no address
        return event
    attendee = vCalAddress(f"mailto:{appointment.attendee_email}")
    attendee.params["cn"] = vText(appointment.attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    return event

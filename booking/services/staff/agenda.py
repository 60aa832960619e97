"""A unit's day at the desk: the agenda, visits honoured or missed, cancellations, feeds."""

from __future__ import annotations

import csv
import hmac
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write, fresh
from booking.domain.calendar import Appointment, feed
from booking.errors import BookingNotFound, Invalid, NoAccess, NotChangeable
from booking.extensions import db
from booking.formatting import local
from booking.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    CalendarFeed,
    Channel,
    StaffUser,
    Unit,
)
from booking.services.messages import notifications
from booking.services.staff import audit
from booking.services.units.reading import lock_unit
from booking.tokens import hash_token, new_secret

VISIT_OUTCOMES = {BookingStatus.HONOURED, BookingStatus.NO_SHOW}
# How the desk names each status (agenda, CSV, messages).
STATUS_LABELS: dict[str, str] = {
    BookingStatus.CONFIRMED: "attendu",
    BookingStatus.HONOURED: "venu",
    BookingStatus.NO_SHOW: "absent",
    BookingStatus.CANCELLED_BY_CITIZEN: "annulé par le citoyen",
    BookingStatus.CANCELLED_BY_UNIT: "annulé par l'unité",
    BookingStatus.PENDING: "à confirmer par courriel",
    BookingStatus.EXPIRED: "non confirmé à temps",
}
# How the desk names each mode and channel (SPEC §12).
MODE_LABELS = {"on_site": "à l'unité", "phone": "par téléphone", "video": "en visio"}
CHANNEL_LABELS: dict[str, str] = {
    Channel.ONLINE: "en ligne",
    Channel.STAFF: "par un agent",
    Channel.INVITATION: "lien d'invitation",
    Channel.PARTNER_API: "service partenaire",
    Channel.WAITLIST: "liste d'attente",
}
FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 60


@dataclass(frozen=True)
class DayAgenda:
    """The bookings of one local day of a unit, in order, with counts per status."""

    unit: Unit
    day: date
    bookings: list[Booking]
    counts: dict[str, int]


def day_bounds(unit: Unit, day: date) -> tuple[datetime, datetime]:
    """The instants that start and end a local day of the unit (23 or 25 h on DST days)."""
    zone = ZoneInfo(unit.timezone)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return start, end


def unit_today(unit: Unit) -> date:
    """The unit's local date now."""
    return local(clock.now(), unit.timezone).date()


def day_agenda(unit: Unit, day: date) -> DayAgenda:
    """Every booking starting that local day, cancelled ones included (the desk should know)."""
    start, end = day_bounds(unit, day)
    bookings = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.unit_id == unit.id, Booking.starts_at >= start, Booking.starts_at < end)
            .options(joinedload(Booking.reason))
            .order_by(Booking.starts_at, Booking.id)
        )
    )
    return DayAgenda(unit, day, bookings, dict(Counter(b.status for b in bookings)))


def agents_of(bookings: list[Booking]) -> dict[int, str]:
    """The email of each agent who booked some of these bookings, by id."""
    ids = {b.booked_by_id for b in bookings if b.booked_by_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(ids)))
    return {staff_id: email for staff_id, email in rows}


def _booking_of(unit: Unit, reference: str) -> Booking:
    """In a write transaction: lock the unit, then its booking of this reference, read
    afresh (another unit's reference is simply not found)."""
    lock_unit(unit.id)
    booking = db.session.scalar(
        fresh(
            select(Booking)
            .where(Booking.unit_id == unit.id, Booking.reference == reference.strip().upper())
            .options(joinedload(Booking.reason), joinedload(Booking.unit))
        )
    )
    if booking is None:
        raise BookingNotFound("Aucun rendez-vous de cette unité ne porte cette référence.")
    return cast(Booking, booking)


def record_visit(actor: StaffUser, unit: Unit, reference: str, outcome: str) -> Booking:
    """Mark a visit honoured or missed (a wrong mark can be corrected)."""
    if outcome not in VISIT_OUTCOMES:
        raise Invalid("Statut inconnu.", {"outcome": "venu ou absent"})
    begin_write()
    booking = _booking_of(unit, reference)
    if booking.status not in {BookingStatus.CONFIRMED, *VISIT_OUTCOMES}:
        raise NotChangeable("Ce rendez-vous est annulé.")
    _check_moment(booking, outcome, clock.now())
    before = booking.status
    booking.status = outcome
    booking.updated_at = clock.now()
    audit.record(actor, "visite", unit, booking.reference, {"statut": before}, {"statut": outcome})
    db.session.commit()
    return booking


ARRIVAL_MARGIN = timedelta(minutes=30)  # a person may be seen a little early


def _check_moment(booking: Booking, outcome: str, now: datetime) -> None:
    """A visit is marked honoured from its start (less ARRIVAL_MARGIN: people come early),
    missed only once it has started: never hours before, by a slip of the finger."""
    if outcome == BookingStatus.HONOURED and now < booking.starts_at - ARRIVAL_MARGIN:
        when = local(booking.starts_at - ARRIVAL_MARGIN, booking.unit.timezone)
        raise NotChangeable(
            f"Trop tôt : « venu » se note à partir de {when:%H:%M}, une demi-heure avant le"
            " rendez-vous."
        )
    if outcome == BookingStatus.NO_SHOW and now < booking.starts_at:
        when = local(booking.starts_at, booking.unit.timezone)
        raise NotChangeable(
            f"Trop tôt : « absent » se note après l'heure du rendez-vous ({when:%H:%M})."
        )


def cancel_by_unit(actor: StaffUser, unit: Unit, reference: str, reason: str) -> Booking:
    """Cancel with a reason that the citizen receives, with the CANCEL invitation."""
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 300:
        raise Invalid("Indiquez la raison de l'annulation (3 à 300 caractères).")
    begin_write()
    booking = _booking_of(unit, reference)
    cancel_for_unit(actor, booking, reason)
    db.session.commit()
    return booking


def cancel_for_unit(actor: StaffUser | None, booking: Booking, reason: str) -> None:
    """Cancel one active booking (or hold) in the transaction, email and audit included
    (`actor` None: the units import did it)."""
    if booking.status not in ACTIVE_STATUSES:
        raise NotChangeable("Ce rendez-vous n'est plus confirmé.")
    before = booking.status
    booking.status = BookingStatus.CANCELLED_BY_UNIT
    booking.video_room = ""  # a cancelled appointment loses its room
    booking.cancel_reason = reason
    booking.ics_sequence += 1
    booking.updated_at = clock.now()
    notifications.cancellation(booking, by_unit_reason=reason)
    audit.record(
        actor,
        "annulation par l'unité",
        booking.unit,
        booking.reference,
        {"statut": before},
        {"statut": booking.status, "raison": reason},
    )


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): shown as text instead.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell that a spreadsheet shows as typed: a leading quote before a formula sign."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def agenda_csv(agenda: DayAgenda) -> bytes:
    """The day as a CSV for a spreadsheet (`;`, UTF-8 with BOM so that Excel reads accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "heure",
            "fin",
            "motif",
            "nom",
            "telephone",
            "courriel",
            "commentaire",
            "statut",
            "reference",
            "mode",
            "canal",
        ]
    )
    zone = agenda.unit.timezone
    for booking in agenda.bookings:
        cells = [
            local(booking.starts_at, zone).strftime("%H:%M"),
            local(booking.ends_at, zone).strftime("%H:%M"),
            booking.reason.label,
            booking.name,
            booking.phone,
            booking.email,
            booking.comment,
            STATUS_LABELS[booking.status],
            booking.reference,
            MODE_LABELS.get(booking.mode, booking.mode),
            CHANNEL_LABELS.get(booking.channel, booking.channel),
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def new_feed_token(actor: StaffUser, unit: Unit) -> str:
    """A new secret for the unit's calendar feed; any previous one stops working."""
    begin_write()
    now = clock.now()
    _revoke_live_feeds(unit, now)
    token = new_secret()
    db.session.add(CalendarFeed(unit_id=unit.id, token_hash=hash_token(token), created_at=now))
    audit.record(actor, "flux agenda régénéré", unit)
    db.session.commit()
    return token


def revoke_feed(actor: StaffUser, unit: Unit) -> None:
    """Stop the unit's calendar feed."""
    begin_write()
    _revoke_live_feeds(unit, clock.now())
    audit.record(actor, "flux agenda révoqué", unit)
    db.session.commit()


def _revoke_live_feeds(unit: Unit, now: datetime) -> None:
    """End every live feed secret of the unit (in the caller's transaction)."""
    live = select(CalendarFeed).where(
        CalendarFeed.unit_id == unit.id, CalendarFeed.revoked_at.is_(None)
    )
    for feed_row in db.session.scalars(live):
        feed_row.revoked_at = now


def has_feed(unit: Unit) -> bool:
    """Whether the unit has a live feed token."""
    return (
        db.session.scalar(
            select(CalendarFeed.id).where(
                CalendarFeed.unit_id == unit.id, CalendarFeed.revoked_at.is_(None)
            )
        )
        is not None
    )


def _mode_prefix(booking: Booking) -> str:
    """How the feed's title says a remote appointment: `Par téléphone – `, `En visio – `."""
    if booking.mode == "on_site":
        return ""
    return MODE_LABELS[booking.mode].capitalize() + " – "


def feed_ics(public_id: str, token: str) -> bytes:
    """The read-only feed (`METHOD:PUBLISH`) of a unit, for a live token of that very unit.

    Events carry the reference and the reason (neutral when discreet), not the citizen's
    name: a calendar client often lives with a third party.
    """
    unit = db.session.scalar(select(Unit).where(Unit.public_id == public_id))
    live = db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if unit is None or live is None or not hmac.compare_digest(str(live.unit_id), str(unit.id)):
        raise NoAccess()
    now = clock.now()
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.unit_id == unit.id,
            Booking.status.in_([BookingStatus.CONFIRMED, *VISIT_OUTCOMES]),
            Booking.starts_at >= now - timedelta(days=FEED_PAST_DAYS),
            Booking.starts_at < now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .options(joinedload(Booking.reason))
        .order_by(Booking.starts_at)
    )
    events = [
        Appointment(
            uid=booking.ics_uid,
            sequence=booking.ics_sequence,
            start=booking.starts_at,
            end=booking.ends_at,
            timezone=unit.timezone,
            summary=f"{_mode_prefix(booking)}{notifications.reason_label(booking)}"
            f" – {booking.reference}",
            # Neither the number to call nor the room: the agenda has them (agents only).
            description="Coordonnées du visiteur : agenda de l'unité (accès agent).",
            location=unit.address,
            latitude=unit.latitude,
            longitude=unit.longitude,
            organizer_email="ne-pas-repondre@" + (unit.email.rpartition("@")[2] or "invalid"),
            organizer_name=unit.name,
            attendee_email=f"{booking.reference.lower()}@rendez-vous.invalid",
            attendee_name=booking.reference,
            stamp=booking.updated_at,
        )
        for booking in bookings
    ]
    return feed(events, f"Rendez-vous – {unit.name}")

"""The emails that tell a citizen about their booking, with the calendar invitation.

A change records *what* to say, in its own transaction: a `Notice` (the kind of email, and
the values of that moment: the booking's times, sequence and reference, the unit, the
reason, the language the booking was made in) goes to the outbox as JSON. The job runner
renders the text, the HTML and the `.ics` when it sends (`message_of`), in the booking's
language whatever its own (SPEC §13): the write stays short, and the email says what was true
when the event happened, even if the booking changed since. The manage link's secret is
never recorded: it is derived again from the booking's calendar UID when rendering.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext

from booking.domain.calendar import (
    DISCREET_PRODUCT_ID,
    PRODUCT_ID,
    calendar_file,
)
from booking.domain.capacity import ON_SITE, PHONE
from booking.domain.words import N_
from booking.formatting import when_of
from booking.keys import purpose_key
from booking.mail import compose, enqueue_notice
from booking.models import Booking, OutboxMessage, Unit
from booking.phones import spoken_phone
from booking.services.bookings.video import OPENS_BEFORE
from booking.services.messages.calendars import appointment, invitation_of, room_of
from booking.tokens import confirmation_token, link_token, waitlist_token
from booking.urls import external_url

# A discreet reason, on the site's own pages.
NEUTRAL_LABEL = N_("Rendez-vous à la gendarmerie")
# Kinds of notice, the template each uses, and its subject (the unit's name follows, but
# for a discreet booking).
TEMPLATES = {
    "confirmation": ("confirmation", N_("Rendez-vous confirmé le %(when)s")),
    "moved": ("confirmation", N_("Rendez-vous déplacé le %(when)s")),
    "verification": ("verification", N_("À confirmer : rendez-vous le %(when)s")),
    # A hold asked with an address that has no room left: told to the owner alone.
    "over_limit": ("over_limit", N_("Limite atteinte : rendez-vous le %(when)s")),
    "offer": ("offer", N_("Un créneau s'est libéré : %(when)s")),
    "reminder": ("reminder", N_("Rappel : rendez-vous le %(when)s")),
    "cancellation": ("cancellation", N_("Rendez-vous annulé : %(when)s")),
}
WITH_LINK = {"confirmation", "moved", "verification", "over_limit", "reminder", "offer"}
# Notices that ask to confirm before a deadline: their link carries the secret that confirms.
HOLDS = {"verification", "over_limit", "offer"}


def reason_label(booking: Booking) -> str:
    """The reason as a page about the booking shows it: neutral for a discreet booking."""
    return NEUTRAL_LABEL if booking.discreet or booking.reason.discreet else booking.reason.label


def manage_url(booking: Booking, token: str) -> str:
    """The link of the email: a page that shows the booking; only its buttons change it."""
    return external_url("manage.show", reference=booking.reference, token=token)


def postal_address(unit: Unit) -> str:
    """The unit's street, postcode and commune, without its name."""
    town = f"{unit.postcode} {unit.commune}".strip()
    return ", ".join(part for part in (unit.street, town) if part)


@dataclass(frozen=True)
class UnitCard:
    """The unit as an email shows it."""

    public_id: str
    name: str
    address: str
    phone: str
    timezone: str
    latitude: float | None
    longitude: float | None
    street: str = ""  # the postal address alone, without the unit's name

    @property
    def place(self) -> str:
        """Where to go, as a discreet email says it: the postal address alone."""
        return self.street or self.address


@dataclass(frozen=True)
class Notice:
    """What an email says, as it was when the event happened."""

    kind: str
    reference: str
    uid: str
    sequence: int
    start: datetime
    end: datetime
    stamp: datetime  # DTSTAMP: when this version of the booking was made
    name: str
    email: str
    unit: UnitCard
    reason_label: str
    documents: str
    deadline: datetime | None = None  # a hold's expiry (verification, offer)
    by_unit_reason: str = ""
    waitlist: str = ""  # an offer's waiting-list entry (its email can leave the list)
    discreet: bool = False  # neutral sender, subject, body and invitation (SPEC §17)
    reason_code: str = ""  # to book the same reason again
    previous_start: datetime | None = None  # a move's old time
    mode: str = ON_SITE  # on site, by phone (the unit calls `phone`), by video (SPEC §12)
    phone: str = ""
    language: str = "fr"  # the booking's (SPEC §13); notices recorded before it: French

    @classmethod
    def of(
        cls,
        kind: str,
        booking: Booking,
        by_unit_reason: str = "",
        waitlist: str = "",
        previous_start: datetime | None = None,
    ) -> Notice:
        """The notice of an event on a booking, with the values it has now."""
        unit = booking.unit
        return cls(
            kind=kind,
            reference=booking.reference,
            uid=booking.ics_uid,
            sequence=booking.ics_sequence,
            start=booking.starts_at,
            end=booking.ends_at,
            stamp=booking.updated_at,
            name=booking.name,
            email=booking.email,
            unit=UnitCard(
                public_id=unit.public_id,
                name=unit.name,
                address=unit.address or f"{unit.street} {unit.postcode} {unit.commune}",
                phone=unit.phone,
                timezone=unit.timezone,
                latitude=unit.latitude,
                longitude=unit.longitude,
                street=", ".join(
                    part
                    for part in (unit.street, f"{unit.postcode} {unit.commune}".strip())
                    if part
                ),
            ),
            reason_label=reason_label(booking),
            documents=booking.reason.documents,
            deadline=(booking.hold_expires_at or booking.created_at) if kind in HOLDS else None,
            by_unit_reason=by_unit_reason,
            waitlist=waitlist,
            discreet=bool(booking.discreet or booking.reason.discreet),
            reason_code=booking.reason_code,
            previous_start=previous_start,
            mode=booking.mode or ON_SITE,
            phone=spoken_phone(booking.phone) if booking.mode == PHONE else "",
            language=booking.language or "fr",
        )

    def to_json(self) -> str:
        """The notice as the outbox keeps it."""
        return json.dumps(asdict(self), default=datetime.isoformat, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        """A notice the outbox kept."""
        values = json.loads(text)
        for name in ("start", "end", "stamp", "deadline", "previous_start"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        values["unit"] = UnitCard(**values["unit"])
        return cls(**values)


def confirmation(booking: Booking) -> None:
    """Booked: the confirmation with a REQUEST invitation."""
    _record(Notice.of("confirmation", booking), booking)


def moved(booking: Booking, previous_start: datetime) -> None:
    """Moved: a new REQUEST with the same UID and a higher SEQUENCE; the email gives the old
    time and the new one."""
    _record(Notice.of("moved", booking, previous_start=previous_start), booking)


def verification(booking: Booking) -> None:
    """Held: the citizen must confirm from this email before the hold expires."""
    _record(Notice.of("verification", booking), booking)


def reminder(booking: Booking) -> None:
    """The reminder before the appointment (no invitation: the event is already there)."""
    _record(Notice.of("reminder", booking), booking)


def cancellation(booking: Booking, by_unit_reason: str = "") -> None:
    """Cancelled by the citizen or by the unit: a CANCEL with the same UID."""
    _record(Notice.of("cancellation", booking, by_unit_reason), booking)


def _record(notice: Notice, booking: Booking) -> None:
    """Into the outbox, in the caller's transaction."""
    record(notice, booking.id)


def record(notice: Notice, booking_id: int, text: str = "") -> None:
    """A notice (and its JSON, if made beforehand) into the outbox, in the caller's
    transaction; nothing for a booking made without an email address (SPEC §17)."""
    if notice.email:
        enqueue_notice(notice.kind, booking_id, notice.email, text or notice.to_json())


def message_of(entry: OutboxMessage) -> str:
    """The MIME message of an outbox entry, CRLF line ends as SMTP wants them: rendered now
    from its notice (or, for a message recorded whole, as it was recorded)."""
    if not entry.notice:
        return entry.message
    if entry.waitlist_entry_id is not None or entry.kind.startswith("waitlist_"):
        # Imported here: the waiting list's notices use this module's links.
        from booking.services.messages.waitlist_notices import WaitlistNotice, render_waitlist

        return render_waitlist(WaitlistNotice.from_json(entry.notice)).as_string(policy=SMTP)
    message = render(Notice.from_json(entry.notice), f"{entry.id}.{entry.created_at:%Y%m%d%H%M%S}")
    return message.as_string(policy=SMTP)


def render(notice: Notice, message_key: str = "") -> EmailMessage:
    """The email of a notice: subject, text, HTML and, but for reminders and verifications,
    the calendar invitation, in the booking's language. `message_key` makes the Message-ID
    the same on every attempt. A discreet booking's email comes from a neutral sender, with
    a subject and a body that name neither the reason nor the gendarmerie, only the address
    to go to."""
    with force_locale(notice.language):
        return _render(notice, message_key)


def _render(notice: Notice, message_key: str) -> EmailMessage:
    template, subject = TEMPLATES[notice.kind]
    language = notice.language
    unit = notice.unit
    manage = ""
    if notice.kind in WITH_LINK:
        manage = hold_url(notice) if notice.kind in HOLDS else _manage_url(notice)
    context: dict[str, Any] = {
        "booking": notice,
        "unit": unit,
        "discreet": notice.discreet,
        "when": when_of(notice.start, unit.timezone, language),
        "reason_label": gettext(notice.reason_label),
        "documents": gettext(notice.documents) if notice.documents else "",
        "rebook_url": rebook_url(notice),
        "previous_when": (
            when_of(notice.previous_start, unit.timezone, language) if notice.previous_start else ""
        ),
        "manage_url": manage,
        "moved": notice.kind == "moved",
        "by_unit_reason": notice.by_unit_reason,
        "deadline": when_of(notice.deadline, unit.timezone, language) if notice.deadline else "",
        "limit": current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"],
        "leave_url": waitlist_url(notice.waitlist) if notice.waitlist else "",
        "mode": notice.mode,
        "call_number": notice.phone,
        "room_url": room_of(notice) if notice.kind != "cancellation" else "",
        "opens_minutes": int(OPENS_BEFORE.total_seconds() // 60),
    }
    short_when = when_of(notice.start, unit.timezone, language, zone=False)
    calendar, method = None, ""
    if notice.kind in {"confirmation", "moved"}:
        calendar, method = invitation_of(notice, "REQUEST"), "REQUEST"
    elif notice.kind == "cancellation":
        calendar, method = invitation_of(notice, "CANCEL"), "CANCEL"
    config = current_app.config
    return compose(
        to=notice.email,
        to_name=notice.name,
        subject=gettext(subject, when=short_when) + ("" if notice.discreet else f" – {unit.name}"),
        template=template,
        context=context,
        calendar=calendar,
        calendar_method=method,
        message_key=message_key,
        sender=config["MAIL_FROM_DISCREET"] if notice.discreet else config["MAIL_FROM"],
        language=language,
    )


def _manage_url(notice: Notice) -> str:
    """The manage link of a notice's booking, its secret derived again."""
    token = link_token(notice.uid, purpose_key("links"))
    return external_url("manage.show", reference=notice.reference, token=token)


def hold_url(notice: Notice) -> str:
    """The link of a hold's email: the manage link, and the secret that confirms the hold,
    which nothing but this email carries."""
    token = link_token(notice.uid, purpose_key("links"))
    confirm = confirmation_token(notice.uid, purpose_key("confirmations"))
    return external_url(
        "manage.show", reference=notice.reference, token=token, confirmation=confirm
    )


def rebook_url(notice: Notice) -> str:
    """Where to book again: the same reason's slots at the unit (the page lists the nearest
    units with a slot when it has none); for a discreet booking, the unit's page, whose
    address names no reason."""
    if not notice.reason_code or notice.discreet:
        return external_url("public.unit", public_id=notice.unit.public_id)
    return external_url("journey.slots", public_id=notice.unit.public_id, motif=notice.reason_code)


def calendar_download(booking: Booking) -> bytes:
    """The booking as a calendar file to download (neutral for a discreet booking)."""
    notice = Notice.of("confirmation", booking)
    product = DISCREET_PRODUCT_ID if notice.discreet else PRODUCT_ID
    return calendar_file(appointment(notice), product)


def waitlist_url(reference: str) -> str:
    """The page of a waiting-list entry (status, leave), with its secret derived again."""
    token = waitlist_token(reference, purpose_key("waitlist"))
    return external_url("waitlist.show", reference=reference, token=token)

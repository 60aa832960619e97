"""The waiting list's own emails: confirm an address, or say it already waits as often as
allowed. Like the booking's, they are recorded as a notice (what to say, without any link's
secret) in the transaction that causes them, and rendered by the job runner when sent: the
link's secret is derived again then, so no outbox row holds it; a confirmation's row goes
with its entry when the entry is deleted (a foreign key, ON DELETE CASCADE)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, gettext

from booking.domain.words import N_
from booking.mail import compose, enqueue_notice
from booking.models import Reason, WaitlistEntry
from booking.services.messages.notifications import NEUTRAL_LABEL, waitlist_url

WAITLIST_KINDS = {"waitlist_confirm", "waitlist_full"}
SUBJECTS = {
    "waitlist_confirm": N_("Confirmez votre inscription sur la liste d'attente"),
    "waitlist_full": N_("Liste d'attente : inscription non enregistrée"),
}


@dataclass(frozen=True)
class WaitlistNotice:
    """What a waiting-list email says, as it was when the person asked."""

    kind: str
    name: str
    email: str
    reference: str = ""  # the entry, whose link is derived when sending
    reason_label: str = ""
    units: list[str] = field(default_factory=list)
    until: str = ""  # dd/mm/yyyy
    limit: int = 0
    language: str = "fr"  # the entry's (SPEC §13); notices recorded before it: French

    def to_json(self) -> str:
        """The notice as the outbox keeps it."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> WaitlistNotice:
        """A notice the outbox kept."""
        return cls(**json.loads(text))


def waitlist_confirm(entry: WaitlistEntry, reason: Reason) -> None:
    """Confirm the address to join the waiting list, into the outbox with the entry."""
    notice = WaitlistNotice(
        kind="waitlist_confirm",
        name=entry.name,
        email=entry.email,
        reference=entry.reference,
        reason_label=NEUTRAL_LABEL if reason.discreet else reason.label,
        units=[unit.name for unit in entry.units],
        until=entry.until.strftime("%d/%m/%Y"),
        language=entry.language or "fr",
    )
    enqueue_notice(notice.kind, None, entry.email, notice.to_json(), waitlist_entry_id=entry.id)


def waitlist_full(name: str, email: str, language: str = "fr") -> None:
    """The address already waits as often as allowed: said to its owner only."""
    limit = int(current_app.config["WAITLIST_MAX_PER_EMAIL"])
    notice = WaitlistNotice(
        kind="waitlist_full", name=name, email=email, limit=limit, language=language
    )
    enqueue_notice(notice.kind, None, email, notice.to_json())


def render_waitlist(notice: WaitlistNotice) -> EmailMessage:
    """The email of a waiting-list notice, its link's secret derived now, in the language
    the person asked in."""
    with force_locale(notice.language):
        return _render(notice)


def _render(notice: WaitlistNotice) -> EmailMessage:
    context = {
        "name": notice.name,
        "reason_label": gettext(notice.reason_label) if notice.reason_label else "",
        "units": notice.units,
        "link": waitlist_url(notice.reference) if notice.reference else "",
        "limit": notice.limit,
        "until": notice.until,
    }
    return compose(
        to=notice.email,
        to_name=notice.name,
        subject=gettext(SUBJECTS[notice.kind]),
        template=notice.kind,
        context=context,
        language=notice.language,
    )

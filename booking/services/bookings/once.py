"""One booking per submission: the form's one-time key and the API's Idempotency-Key.

A key is looked up before anything else (a resubmission of a booking already made must not
meet its own slot, taken). It is written in the booking's transaction, under a unique
constraint: two submissions of one key racing each other (a double tap) cannot both book;
the loser finds the winner's booking. Kept 24 hours (`purge_submissions`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from booking import clock
from booking.database import begin_write
from booking.domain.words import N_
from booking.errors import Invalid
from booking.extensions import db
from booking.keys import purpose_key
from booking.models import ACTIVE_STATUSES as ACTIVE
from booking.models import Booking, SubmittedOnce, Unit

KEPT = timedelta(hours=24)


@dataclass(frozen=True)
class Once:
    """A request that must be answered once: its key and what it asked (empty for forms,
    where any resubmission of the key is the same request)."""

    key: str
    fingerprint: str = ""

    @classmethod
    def of_api(cls, key: str, body: dict[str, Any], client: str) -> Once:
        """An API request: its Idempotency-Key within its client's own keys, and its body's
        digest. `client` names who sent it (a partner's API key, else the network address):
        a key another client used is, to this one, a key never seen, so that nobody learns
        which keys others used."""
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return cls(_keyed_digest(f"api:{client}\n{key}"), _keyed_digest(canonical))

    @classmethod
    def of_form(cls, key: str) -> Once:
        """A form's one-time key."""
        return cls(_digest(f"form:{key}"))

    @property
    def replays_spent(self) -> bool:
        """Whether a key whose booking is no longer active answers that booking again (an
        API client's retry: the same answer) or books anew (a form: the person came back to
        book that slot again, after cancelling it or letting its hold expire)."""
        return bool(self.fingerprint)


def _digest(text: str) -> str:
    """Keys are kept as digests: a key is as good as a password to its booking's answer."""
    return hashlib.sha256(text.encode()).hexdigest()


def _keyed_digest(text: str) -> str:
    """A request body's fingerprint, keyed by the service's secret: the body holds personal
    data (a pre-declaration among them) whose short values a plain digest would let a
    database dump guess, one try after another."""
    return hmac.new(purpose_key("fingerprints"), text.encode(), hashlib.sha256).hexdigest()


def answered(once: Once, now: datetime | None = None) -> SubmittedOnce | None:
    """The submission already made with this key (its booking loaded), if any; Invalid if
    the key was used for another request."""
    cutoff = (now or clock.now()) - KEPT
    found = db.session.scalar(
        select(SubmittedOnce)
        .where(SubmittedOnce.key == once.key, SubmittedOnce.created_at > cutoff)
        .options(
            joinedload(SubmittedOnce.booking)
            .joinedload(Booking.unit)
            .selectinload(Unit.opening_ranges),
            joinedload(SubmittedOnce.booking).joinedload(Booking.reason),
        )
    )
    if found is not None and found.fingerprint != once.fingerprint:
        raise Invalid(
            N_("Cette clé d'idempotence a déjà servi pour une autre demande."),
            {"Idempotency-Key": N_("une clé par demande")},
        )
    return found


def spent(once: Once, now: datetime | None = None) -> bool:
    """Whether a form's key already made a booking that is no longer active (cancelled,
    expired): the same slot may then be booked again, with a new key."""
    done = answered(once, now)
    return done is not None and is_spent(done)


def will_replay(once: Once | None, now: datetime | None = None) -> bool:
    """Whether a submission with this key would only get its earlier answer again (a retry,
    a double tap): it books nothing, so it is not asked to prove anything again."""
    if once is None:
        return False
    done = answered(once, now)
    return done is not None and (once.replays_spent or not is_spent(done))


def is_spent(done: SubmittedOnce) -> bool:
    """Whether the booking an answered key made is no longer active."""
    return done.booking is None or done.booking.status not in ACTIVE


def claim(once: Once, now: datetime, spent: SubmittedOnce | None = None) -> SubmittedOnce | None:
    """In the booking's write transaction, before the booking: claim the key. None when
    another submission of it got there first (the transaction is then rolled back).

    `spent`: the key's entry whose booking is no longer active, replaced by this one (only
    that entry: a twin submission that replaced it first wins, and this one loses)."""
    forgotten = SubmittedOnce.created_at <= now - KEPT  # forgotten but not purged yet
    if spent is not None:
        forgotten = or_(forgotten, SubmittedOnce.id == spent.id)
    db.session.execute(delete(SubmittedOnce).where(SubmittedOnce.key == once.key, forgotten))
    if spent is not None:
        db.session.expunge(spent)
    entry = SubmittedOnce(key=once.key, fingerprint=once.fingerprint, created_at=now)
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return entry


def summary(booking: Booking) -> dict[str, Any]:
    """A booking as its booker is answered, without the manage link (a secret)."""
    zone = ZoneInfo(booking.unit.timezone)
    return {
        "reference": booking.reference,
        "status": booking.status,
        "unit_id": booking.unit.public_id,
        "motif": booking.reason_code,
        "mode": booking.mode or "on_site",
        "start": booking.starts_at.astimezone(zone).isoformat(),
        "end": booking.ends_at.astimezone(zone).isoformat(),
        "discreet": booking.discreet,
    }


def purge_submissions(now: datetime | None = None) -> int:
    """Forget the keys older than a day (the job runner, every hour)."""
    cutoff = (now or clock.now()) - KEPT
    begin_write()
    result = db.session.execute(delete(SubmittedOnce).where(SubmittedOnce.created_at <= cutoff))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)

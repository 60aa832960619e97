"""A proof-of-work challenge instead of a puzzle (ALTCHA, self-hosted): the browser spends
about a second of computation, a script booking every freed slot spends it for each one.

BOOKING_CHALLENGE says when anonymous bookings and waiting-list requests must carry a solved
challenge: `off`, `on`, or `auto` (the default: when the service took more than
BOOKING_CHALLENGE_THRESHOLD bookings in the last minute). Challenges are signed with a key
derived from SECRET_KEY and expire after ten minutes; a solution is usable once (its
challenge's signature is kept until it expires, and the database refuses it twice).
Partner services with an API key are exempt (booking.services.staff.api_keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import Payload, create_challenge, verify_solution
from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from booking import clock
from booking.database import begin_write
from booking.domain.words import N_
from booking.errors import ServiceError
from booking.extensions import db
from booking.keys import purpose_key
from booking.metrics import CHALLENGES
from booking.models import Booking, SpentChallenge

ALGORITHM = "PBKDF2/SHA-256"
LIFETIME = timedelta(minutes=10)
FIELD = "altcha"  # the form field (and API body member) that carries the solution


class ChallengeRefused(ServiceError):
    """The request needed a solved challenge and did not carry a valid, unused one."""

    status, code = 403, "challenge_required"
    default_message = N_(
        "La vérification anti-robot n'a pas abouti (ou a déjà servi) : validez à nouveau le"
        " formulaire. Sans JavaScript, appelez l'unité."
    )


def _secret() -> bytes:
    """The signing key, derived from SECRET_KEY (nothing more to configure)."""
    return purpose_key("challenge")


def issue() -> dict[str, Any]:
    """A new challenge, as the widget fetches it. Its expiry is in wall-clock time: the
    library checks it against the system's clock, not the service's."""
    expires = datetime.now(UTC) + LIFETIME
    cost = int(current_app.config["BOOKING_CHALLENGE_COST"])
    challenge = create_challenge(ALGORITHM, cost, expires_at=expires, hmac_secret=_secret())
    CHALLENGES.labels("issued").inc()
    answer: dict[str, Any] = challenge.to_dict()
    return answer


def required(now: datetime | None = None) -> bool:
    """Whether anonymous requests must carry a solved challenge now."""
    mode = current_app.config["BOOKING_CHALLENGE"]
    if mode != "auto":
        return bool(mode == "on")
    since = (now or clock.now()) - timedelta(minutes=1)
    recent = db.session.scalar(select(func.count(Booking.id)).where(Booking.created_at >= since))
    return int(recent or 0) >= int(current_app.config["BOOKING_CHALLENGE_THRESHOLD"])


def check_form(values: Mapping[str, Any], now: datetime | None = None) -> None:
    """When a challenge is required: the request's solution, checked and spent."""
    if required(now):
        spend(str(values.get(FIELD) or ""), now)


def spend(payload: str, now: datetime | None = None) -> None:
    """Check a solution and mark it used; ChallengeRefused if it is missing, wrong, expired
    or used already."""
    now = now or clock.now()
    try:
        parsed = Payload.from_base64(payload) if 0 < len(payload) <= 4096 else None
        verified = parsed is not None and verify_solution(parsed, _secret()).verified
    except Exception:  # any malformed payload: refused like a wrong one
        parsed, verified = None, False
    if not verified or parsed is None or not parsed.challenge.signature:
        CHALLENGES.labels("refused").inc()
        raise ChallengeRefused()
    digest = hashlib.sha256(parsed.challenge.signature.encode()).hexdigest()
    expires = parsed.challenge.parameters.expires_at
    kept_until = datetime.fromtimestamp(expires, UTC) if expires else now + LIFETIME
    begin_write()
    try:
        db.session.execute(insert(SpentChallenge).values(digest=digest, expires_at=kept_until))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        CHALLENGES.labels("refused").inc()
        raise ChallengeRefused() from None
    CHALLENGES.labels("solved").inc()


def purge_spent(now: datetime | None = None) -> int:
    """Forget the solutions whose challenge has expired (they cannot be replayed anyway)."""
    begin_write()
    result = db.session.execute(
        delete(SpentChallenge).where(SpentChallenge.expires_at < (now or datetime.now(UTC)))
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)

"""Partners' API keys: a staff administrator issues and revokes them; only their SHA-256 is
stored, and the key itself is shown once. A request with a valid key skips the challenge."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from booking import clock
from booking.database import begin_write
from booking.errors import Invalid, NotFound
from booking.extensions import db
from booking.models import ApiKey, StaffUser
from booking.services.staff.audit import record

PREFIX = "rdv_"


def _digest(key: str) -> str:
    """What is stored of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(actor: StaffUser, name: str) -> tuple[ApiKey, str]:
    """A new key for a partner named `name`; the key is returned once, never stored."""
    name = " ".join(name.split())[:100]
    if len(name) < 2:
        raise Invalid(fields={"name": "Indiquez le nom du service partenaire."})
    key = PREFIX + secrets.token_urlsafe(32)
    begin_write()
    entry = ApiKey(name=name, prefix=key[:10], key_hash=_digest(key), created_by=actor.id)
    db.session.add(entry)
    db.session.flush()
    record(actor, "api_key_issued", None, f"clé {entry.prefix}… pour {name}")
    db.session.commit()
    return entry, key


def revoke_key(actor: StaffUser, key_id: int, now: datetime | None = None) -> ApiKey:
    """Revoke a key: it opens nothing from now on."""
    begin_write()
    entry = db.session.get(ApiKey, key_id)
    if entry is None:
        raise NotFound()
    if entry.revoked_at is None:
        entry.revoked_at = now or clock.now()
        record(actor, "api_key_revoked", None, f"clé {entry.prefix}… de {entry.name}")
    db.session.commit()
    return entry


def list_keys() -> list[ApiKey]:
    """Every key, newest first."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def partner_of(header: str) -> ApiKey | None:
    """The active key an `Authorization: Bearer …` header carries, if any."""
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip().startswith(PREFIX) or len(key) > 200:
        return None
    found: ApiKey | None = db.session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _digest(key.strip()), ApiKey.revoked_at.is_(None))
    )
    return found

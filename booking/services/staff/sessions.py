"""Staff sessions kept by the server (SPEC §15): one row per signed-in device.

The browser's signed cookie holds only the session's secret; the row (its SHA-256) says
whether the session is still open. A session ends at a logout, by "end this session" on the
account page, after STAFF_IDLE_MINUTES without a request, STAFF_SESSION_HOURS after it
began, when the account's password changes, when the account is deactivated or deleted,
and, for a password session, when the service is set to ProConnect only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from flask import current_app
from sqlalchemy import select, update

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.models import StaffSession, StaffUser

# A session's last activity is written at most this often: one write a minute per agent.
TOUCH_EVERY: Final = timedelta(minutes=1)
DEVICE_LENGTH: Final = 200

# Why a session ended, as the agent reads it at the sign-in page.
IDLE: Final = "inactivité"
LIFETIME: Final = "durée maximale"
LOGOUT: Final = "déconnexion"
ENDED_BY_AGENT: Final = "fermée depuis le compte"
PASSWORD_CHANGED: Final = "mot de passe changé"
DEACTIVATED: Final = "compte désactivé"
PASSWORDS_OFF: Final = "mot de passe non admis"


@dataclass(frozen=True)
class Opened:
    """A session just opened: the account, its secret (for the cookie) and its row."""

    user: StaffUser
    secret: str
    row: StaffSession


@dataclass(frozen=True)
class Found:
    """What a request's cookie leads to: the account, or why its session ended."""

    user: StaffUser | None
    ended: str = ""
    row: StaffSession | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    user: StaffUser,
    method: str,
    device: str,
    acr: str = "",
    amr: str = "",
    id_token: str = "",
) -> Opened:
    """A new session for the account, signed in by `method`; the caller's transaction is
    committed with it (with the account's last sign-in)."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    begin_write()
    account = db.session.get(StaffUser, user.id)
    if account is None:
        raise LookupError("account gone")
    row = StaffSession(
        user_id=account.id,
        secret_hash=_hash(secret),
        version=account.session_version,
        method=method,
        acr=acr[:60],
        amr=amr[:120],
        id_token=id_token,
        device=device[:DEVICE_LENGTH],
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(row)
    account.last_login_at = now
    db.session.commit()
    account.session_secret = secret
    return Opened(account, secret, row)


def _why_over(row: StaffSession, user: StaffUser, now: datetime) -> str:
    """Why an open session may no longer be used ("" when it may)."""
    config = current_app.config
    if not user.active:
        return DEACTIVATED
    if row.version != user.session_version:
        return PASSWORD_CHANGED
    if row.method != "proconnect" and not config["STAFF_PASSWORD_SIGN_IN"]:
        return PASSWORDS_OFF
    if now - row.created_at >= timedelta(hours=config["STAFF_SESSION_HOURS"]):
        return LIFETIME
    if now - row.last_seen_at >= timedelta(minutes=config["STAFF_IDLE_MINUTES"]):
        return IDLE
    return ""


def find(secret: str) -> Found:
    """The account of a request's session, its activity noted; or why there is none."""
    if not secret or len(secret) > 100:
        return Found(None)
    found = db.session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.secret_hash == _hash(secret))
    ).first()
    if found is None:
        return Found(None)
    row, user = found
    if row.ended_at is not None:
        return Found(None, row.end_reason)
    now = clock.now()
    reason = _why_over(row, user, now)
    if reason:
        _end(row.id, reason)
        return Found(None, reason)
    if now - row.last_seen_at >= TOUCH_EVERY:
        begin_write()
        db.session.execute(
            update(StaffSession).where(StaffSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
        row.last_seen_at = now
    user.session_secret = secret
    return Found(user, row=row)


def _end(session_id: int, reason: str) -> None:
    begin_write()
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )
    db.session.commit()


def end(user: StaffUser, session_id: int, reason: str = ENDED_BY_AGENT) -> bool:
    """End one of the account's own sessions; False if it is not one of them or is over."""
    row = db.session.get(StaffSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    _end(row.id, reason)
    return True


def end_all(user_id: int, reason: str) -> int:
    """End every open session of an account (in the caller's transaction, not committed)."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions(user: StaffUser) -> list[StaffSession]:
    """The account's sessions still open, the newest first (expired ones are left out)."""
    now = clock.now()
    rows = db.session.scalars(
        select(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.created_at.desc())
    )
    return [row for row in rows if not _why_over(row, user, now)]

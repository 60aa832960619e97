"""Staff accounts and what each one may reach."""

from __future__ import annotations

from typing import cast

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from booking import clock
from booking.database import begin_write
from booking.errors import Invalid, NoAccess
from booking.extensions import db
from booking.models import StaffUser, Unit
from booking.services.staff import audit

MIN_PASSWORD_LENGTH = 12
# Checked when the email is unknown too, so that timing does not tell which emails exist.
_DUMMY_HASH = generate_password_hash("pas-un-vrai-mot-de-passe")


def _hash(password: str) -> str:
    """A password hashed as configured (PASSWORD_HASH_METHOD: OWASP's scrypt parameters,
    N = 2^17, r = 8, p = 1, by default)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


STAFF_SEARCH_LIMIT = 50


class StaffError(Invalid):
    """An account that cannot be created as asked; the message is French."""


def create_staff(email: str, password: str, unit_ids: list[str], admin: bool = False) -> StaffUser:
    """Create an account (scrypt-hashed password) attached to units."""
    try:
        email = validate_email(
            email, check_deliverability=False, allow_smtputf8=False
        ).normalized.lower()
    except EmailNotValidError as error:
        raise StaffError(f"adresse électronique invalide : {email}") from error
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"le mot de passe doit avoir au moins {MIN_PASSWORD_LENGTH} caractères")
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email)):
        raise StaffError(f"un compte existe déjà pour {email}")
    units = list(db.session.scalars(select(Unit).where(Unit.public_id.in_(unit_ids))))
    missing = sorted(set(unit_ids) - {unit.public_id for unit in units})
    if missing:
        raise StaffError("unités inconnues : " + ", ".join(missing))
    if not units and not admin:
        raise StaffError("un agent doit appartenir à au moins une unité (--unit), sauf --admin")
    user = StaffUser(
        email=email,
        password_hash=_hash(password),
        is_admin=admin,
        units=units,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(None, "compte créé", None, email, after={"unites": unit_ids, "admin": admin})
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with these credentials, or None."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if not user.password_hash.startswith(current_app.config["PASSWORD_HASH_METHOD"] + "$"):
        user.password_hash = _hash(password)  # hashed again with today's parameters
    user.last_login_at = clock.now()
    db.session.commit()
    return cast(StaffUser, user)


def load_staff(session_key: str) -> StaffUser | None:
    """The account of a session, if the session is still valid: an active account, and a
    session made since its last logout or password change."""
    user_id, _, version = session_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user: StaffUser) -> None:
    """End every session of the account, on every device (a logout does this)."""
    begin_write()
    account = db.session.get(StaffUser, user.id)
    if account is not None:
        account.session_version += 1
    db.session.commit()


def change_password(email: str, password: str) -> StaffUser:
    """A new password (hashed); every open session of the account ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"le mot de passe doit avoir au moins {MIN_PASSWORD_LENGTH} caractères")
    begin_write()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"aucun compte pour {email}")
    user.password_hash = _hash(password)
    user.session_version += 1
    audit.record(None, "mot de passe changé", None, user.email)
    db.session.commit()
    return cast(StaffUser, user)


def reachable_unit(user: StaffUser, public_id: str) -> Unit:
    """A unit this staff member may see and change; NoAccess otherwise."""
    unit = db.session.scalar(select(Unit).where(Unit.public_id == public_id))
    if unit is None or not (user.is_admin or unit in user.units):
        raise NoAccess()
    return cast(Unit, unit)


def units_of(user: StaffUser, q: str = "") -> list[Unit]:
    """The agent's units; an administrator's search among all active units by name or id."""
    if not user.is_admin:
        return list(user.units)
    query = select(Unit).where(Unit.active.is_(True)).order_by(Unit.name).limit(STAFF_SEARCH_LIMIT)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            Unit.name.ilike(pattern, escape="\\") | Unit.public_id.ilike(pattern, escape="\\")
        )
    return list(db.session.scalars(query))

"""Staff accounts and what each one may reach."""

from __future__ import annotations

from typing import cast

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from booking.database import begin_write
from booking.errors import Invalid, NoAccess
from booking.extensions import db
from booking.models import ApiKey, AuditEntry, RecoveryCode, StaffSession, StaffUser, Unit
from booking.services.staff import audit, sessions

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
        db.session.commit()
    return cast(StaffUser, user)


def set_active(admin: StaffUser | None, email: str, active: bool) -> StaffUser:
    """Deactivate an account (its sessions end at once, ProConnect's included) or give it
    back its access; recorded in the audit log."""
    begin_write()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"aucun compte pour {email}")
    if admin is not None and user.id == admin.id and not active:
        raise StaffError("un administrateur ne désactive pas son propre compte")
    user.active = active
    if not active:
        user.session_version += 1
        sessions.end_all(user.id, sessions.DEACTIVATED)
    audit.record(admin, "compte réactivé" if active else "compte désactivé", None, user.email)
    db.session.commit()
    return cast(StaffUser, user)


def delete_staff(email: str) -> None:
    """Delete an account: its sessions, recovery codes and feeds' authorship go with it; the
    audit log keeps its email."""
    begin_write()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"aucun compte pour {email}")
    sessions.end_all(user.id, "compte supprimé")
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for column in (AuditEntry.actor_id, ApiKey.created_by):  # no ON DELETE on these two
        db.session.execute(update(column.class_).where(column == user.id).values({column: None}))
    audit.record(None, "compte supprimé", None, user.email)
    db.session.delete(user)
    db.session.commit()


def all_accounts() -> list[StaffUser]:
    """Every account, by email (the administrators' page)."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.email)))


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
    sessions.end_all(user.id, sessions.PASSWORD_CHANGED)
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

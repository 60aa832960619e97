"""Which account a ProConnect identity opens (SPEC §15), once the web layer checked the ID
token: the account linked to its `sub`, else the account an administrator created for its
email, linked at this first sign-in; else, for an email of a domain listed in
PROCONNECT_DOMAINS, a new account with no unit. Every refusal says why in French and is
written in the audit log."""

from __future__ import annotations

import secrets
from typing import cast

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from booking.database import begin_write
from booking.extensions import db
from booking.models import StaffUser
from booking.services.staff import audit

PROVIDER = "ProConnect"


class Refused(Exception):
    """A ProConnect sign-in refused: `message` is what the agent reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refuse(message: str, who: str = "") -> Refused:
    """Write the refusal in the audit log and return it, to be raised."""
    db.session.rollback()
    begin_write()
    audit.record(
        None,
        "connexion ProConnect refusée",
        None,
        who[:100],
        after={"motif": message},
        who=PROVIDER,
    )
    db.session.commit()
    return Refused(message)


def _email(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise refuse("ProConnect n'a pas transmis d'adresse électronique pour cette identité.")
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise refuse("L'adresse transmise par ProConnect n'est pas valide.", raw) from None


def _by_domain(email: str) -> StaffUser:
    """A new account for an agent of a domain an administrator allowed, with no unit until
    an administrator gives them some."""
    domain = email.rpartition("@")[2]
    if domain not in current_app.config["PROCONNECT_DOMAINS"]:
        raise refuse(
            f"Aucun compte n'existe pour {email}. Demandez à un administrateur du service de"
            " créer votre compte, puis connectez-vous de nouveau.",
            email,
        )
    unusable = generate_password_hash(secrets.token_urlsafe(32))  # no one knows it
    user = StaffUser(email=email, password_hash=unusable, is_admin=False, units=[])
    db.session.add(user)
    db.session.flush()
    audit.record(None, "compte créé par ProConnect", None, email, who=PROVIDER)
    return user


def account_for(sub: str, email_claim: object) -> StaffUser:
    """The account this identity signs in to (linked now if it was not); Refused otherwise."""
    email = _email(email_claim)
    begin_write()
    user = db.session.scalar(select(StaffUser).where(StaffUser.proconnect_sub == sub))
    if user is None:
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = _by_domain(email)
        if user.proconnect_sub and user.proconnect_sub != sub:
            raise refuse(
                f"Le compte {email} est déjà lié à une autre identité ProConnect."
                " Un administrateur peut le délier.",
                email,
            )
    if not user.active:
        raise refuse(f"Le compte {user.email} est désactivé.", user.email)
    if user.proconnect_sub is None:
        user.proconnect_sub = sub
        audit.record(user, "identité ProConnect liée", None, user.email)
    db.session.commit()
    return cast(StaffUser, user)


def unlink(admin: StaffUser | None, email: str) -> StaffUser:
    """Forget the ProConnect identity linked to an account (the next one links anew)."""
    begin_write()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise Refused(f"aucun compte pour {email}")
    user.proconnect_sub = None
    audit.record(admin, "identité ProConnect déliée", None, user.email)
    db.session.commit()
    return cast(StaffUser, user)

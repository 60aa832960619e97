"""The second factor of a password account (SPEC §15): TOTP (RFC 6238, with pyotp) and ten
single-use recovery codes.

The TOTP secret is sealed (Fernet) with a key derived from SECRET_KEY, and opened with the
fallbacks' keys too, so that a key rotation keeps it. It is made at the first sign-in and
used once the agent typed a first good code from their app. A code is good within one
30-second step either side of the service's clock, and once: the step of the last accepted
code is kept. Recovery codes hold 60 random bits each; only their SHA-256 is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final, cast

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import delete, func, select, update

from booking import clock
from booking.database import begin_write
from booking.errors import Invalid
from booking.extensions import db
from booking.keys import derive
from booking.models import RecoveryCode, StaffUser
from booking.services.staff import audit, sessions

ISSUER: Final = "Rendez-vous en gendarmerie"
STEP_SECONDS: Final = 30
RECOVERY_CODES: Final = 10
# No 0/O, 1/I/L: read from paper and typed again.
_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS: Final = 3
_GROUP_LENGTH: Final = 4

TOTP: Final = "password+totp"
RECOVERY: Final = "password+recovery"


class WrongCode(Invalid):
    """A code that does not open the account; the message is French."""


def _box() -> MultiFernet:
    config = current_app.config
    secrets_ = [config["SECRET_KEY"], *reversed(config["SECRET_KEY_FALLBACKS"] or [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(derive(str(key), "second-factor"))) for key in secrets_]
    )


def _secret_of(user: StaffUser) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _box().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed without a fallback: an administrator resets
        return None


def _step() -> int:
    return int(clock.now().timestamp()) // STEP_SECONDS


def enrolled(user: StaffUser) -> bool:
    """Whether the account's second factor is set up."""
    return user.totp_enabled_at is not None


def pending_secret(user: StaffUser) -> str:
    """The secret the agent is setting up (made once, kept until the first good code, so
    that a page reloaded shows the same QR code)."""
    if enrolled(user):
        raise WrongCode("le second facteur de ce compte est déjà en place")
    secret = _secret_of(user)
    if secret:
        return secret
    secret = pyotp.random_base32()
    begin_write()
    account = db.session.get(StaffUser, user.id)
    if account is None:
        raise WrongCode("compte inconnu")
    account.totp_secret = _box().encrypt(secret.encode()).decode()
    db.session.commit()
    user.totp_secret = account.totp_secret
    return secret


def provisioning_uri(user: StaffUser, secret: str) -> str:
    """What the QR code holds: `otpauth://totp/…` for any authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()[:40]


def _hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _matching_step(secret: str, code: str, after: int) -> int | None:
    """The step (now, or one either side) whose code this is, if it is later than `after`."""
    totp = pyotp.TOTP(secret)
    now = _step()
    for step in (now - 1, now, now + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user_id: int, step: int) -> bool:
    """Record the step as used; False if a code of this step or a later one already was
    (the same code sent twice, or two requests at once)."""
    begin_write()
    result = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id, StaffUser.totp_last_step < step)
        .values(totp_last_step=step)
    )
    return bool(getattr(result, "rowcount", 0))


def _new_codes(user_id: int) -> list[str]:
    """Ten new recovery codes replacing the old ones, in the caller's write transaction."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [
        "-".join(
            "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
        )
        for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash(code)) for code in codes)
    return codes


def confirm_setup(user: StaffUser, code: str) -> list[str]:
    """Turn the second factor on with a first good code; the recovery codes, shown once."""
    secret = _secret_of(user)
    code = _normalised(code)
    if enrolled(user) or not secret:
        raise WrongCode("recommencez la connexion pour mettre en place le second facteur")
    step = _matching_step(secret, code, user.totp_last_step) if code.isdigit() else None
    if step is None or not _spend_step(user.id, step):
        db.session.rollback()
        raise WrongCode("code incorrect : tapez les 6 chiffres que l'application affiche")
    account = db.session.get(StaffUser, user.id)
    assert account is not None
    account.totp_enabled_at = clock.now()
    codes = _new_codes(user.id)
    audit.record(account, "second facteur activé", None, account.email)
    db.session.commit()
    return codes


def check(user: StaffUser, code: str) -> str:
    """How a sign-in's second step passes (TOTP or RECOVERY); WrongCode otherwise."""
    secret = _secret_of(user)
    code = _normalised(code)
    if not enrolled(user) or not secret:
        raise WrongCode("ce compte n'a pas de second facteur en place")
    if code.isdigit() and len(code) == 6:
        step = _matching_step(secret, code, user.totp_last_step)
        if step is not None and _spend_step(user.id, step):
            db.session.commit()
            return TOTP
        db.session.rollback()
        raise WrongCode("code incorrect ou déjà utilisé : attendez le suivant")
    begin_write()
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
    if not getattr(result, "rowcount", 0):
        db.session.rollback()
        raise WrongCode("code de secours incorrect ou déjà utilisé")
    account = db.session.get(StaffUser, user.id)
    audit.record(account, "code de secours utilisé", None, user.email)
    db.session.commit()
    return RECOVERY


def codes_left(user: StaffUser) -> int:
    """How many recovery codes the account has not used."""
    count = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def renew_codes(user: StaffUser) -> list[str]:
    """Ten new recovery codes (the old ones stop working), shown once."""
    begin_write()
    codes = _new_codes(user.id)
    account = db.session.get(StaffUser, user.id)
    audit.record(account, "codes de secours renouvelés", None, user.email)
    db.session.commit()
    return codes


def reset(admin: StaffUser | None, email: str) -> StaffUser:
    """An administrator's reset (a lost phone): the second factor and recovery codes go, the
    account's sessions end, and the next password sign-in sets up a new one."""
    begin_write()
    account = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if account is None:
        raise WrongCode(f"aucun compte pour {email}")
    account.totp_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = 0  # the steps of the old secret say nothing of the new one's
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == account.id))
    sessions.end_all(account.id, "second facteur réinitialisé")
    audit.record(admin, "second facteur réinitialisé", None, account.email)
    db.session.commit()
    return cast(StaffUser, account)

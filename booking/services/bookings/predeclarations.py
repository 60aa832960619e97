"""Pre-declarations: checked with the reason's form, sealed before they reach the database,
opened only for the unit's staff.

A pre-declaration is stored as a Fernet token (AES-128-CBC with HMAC-SHA256, from the
`cryptography` library) under PRE_DECLARATION_KEYS: a database dump, a backup or a replica
shows nothing of it without the key. Several keys may be set, newest first: the first seals,
every one opens, and `flask bookings rotate-key` seals every stored pre-declaration again
under the first (docs/deploy.md says how to rotate).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import select, update

from booking.config import ConfigurationError
from booking.database import begin_write
from booking.domain.predeclaration import Form, check_answers, describe, read_form
from booking.errors import Invalid
from booking.extensions import db
from booking.models import Booking, Reason

_EXTENSION = "pre_declarations"


def init_app(app: Flask) -> None:
    """Check the keys at start: a wrong one stops the service with a clear message."""
    app.extensions[_EXTENSION] = _box(app.config)


def _box(config: Mapping[str, Any]) -> MultiFernet:
    """The keys of the configuration (or, in development and tests, one derived from the
    SECRET_KEY), as one Fernet that seals with the first and opens with any."""
    keys = [str(key) for key in config.get("PRE_DECLARATION_KEYS") or []]
    if not keys:
        if config.get("APP_ENV") not in {"development", "testing"}:
            raise ConfigurationError(
                "PRE_DECLARATION_KEYS est obligatoire hors développement : une clé Fernet"
                ' (python -c "from cryptography.fernet import Fernet;'
                ' print(Fernet.generate_key().decode())")'
            )
        digest = hashlib.sha256(b"pre-declaration:" + str(config["SECRET_KEY"]).encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ConfigurationError(
            "PRE_DECLARATION_KEYS : chaque clé est une clé Fernet (44 caractères base64)"
        ) from None


def _current() -> MultiFernet:
    """The keys of the running application."""
    box: MultiFernet = current_app.extensions[_EXTENSION]
    return box


def form_of(reason: Reason) -> Form | None:
    """The pre-declaration a reason asks for, if any."""
    try:
        return read_form(json.loads(reason.pre_declaration)) if reason.pre_declaration else None
    except (ValueError, TypeError, KeyError):  # checked at load: a row edited by hand
        return None


def seal_answers(reason: Reason, values: Mapping[str, str], today: date) -> str:
    """The answers checked and sealed for storage ("" when none); Invalid names each wrong
    field. Fields left empty are no answer, whatever their name."""
    values = {name: value for name, value in values.items() if str(value).strip()}
    if not values:
        return ""
    form = form_of(reason)
    if form is None:
        raise Invalid(fields={"pre_declaration": "Ce motif ne prévoit pas de pré-déclaration."})
    answers, errors = check_answers(form, values, today)
    if errors:
        raise Invalid(fields=errors)
    if not answers:
        return ""
    plain = json.dumps(answers, ensure_ascii=False, separators=(",", ":"))
    return _current().encrypt(plain.encode()).decode()


def open_answers(booking: Booking) -> list[tuple[str, str]]:
    """What the citizen declared, as the unit's staff read it; a token no key opens is shown
    as such, not hidden."""
    if not booking.pre_declaration:
        return []
    try:
        answers = json.loads(_current().decrypt(booking.pre_declaration.encode()))
    except (InvalidToken, ValueError):
        return [("Pré-déclaration", "illisible avec les clés actuelles (PRE_DECLARATION_KEYS)")]
    return describe(form_of(booking.reason), answers)


def rotate_keys(batch: int = 500) -> tuple[int, int]:
    """Seal every stored pre-declaration again under the first key; return how many were,
    and how many no key opens (left as they are)."""
    box, done, unreadable, last = _current(), 0, 0, 0
    while True:
        rows = db.session.execute(
            select(Booking.id, Booking.pre_declaration)
            .where(Booking.pre_declaration != "", Booking.id > last)
            .order_by(Booking.id)
            .limit(batch)
        ).all()
        if not rows:
            return done, unreadable
        begin_write()
        for booking_id, token in rows:
            try:
                sealed = box.rotate(token.encode()).decode()
            except InvalidToken:
                unreadable += 1
                continue
            # Only if unchanged meanwhile: an erasure or a new booking wins.
            db.session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.pre_declaration == token)
                .values(pre_declaration=sealed)
            )
            done += 1
        db.session.commit()
        last = rows[-1][0]

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
from booking.domain.words import N_
from booking.errors import Invalid
from booking.extensions import db
from booking.keys import derive
from booking.logs import security_event
from booking.models import Booking, Reason, StaffUser, Unit
from booking.services.staff import audit

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
        derived = derive(str(config["SECRET_KEY"]), "pre-declarations")
        keys = [base64.urlsafe_b64encode(derived).decode()]
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
        raise Invalid(fields={"pre_declaration": N_("Ce motif ne prévoit pas de pré-déclaration.")})
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


def read_for_unit_staff(
    actor: StaffUser, unit: Unit, bookings: list[Booking]
) -> dict[int, list[tuple[str, str]]]:
    """The pre-declarations of a unit's bookings, opened for a member of the unit only
    (SPEC §10: an administrator who is not one reads none), each read recorded in the audit
    log (who, when, which booking) and told to the security log."""
    member = any(own.id == unit.id for own in actor.units)
    declared = {b.id: b for b in bookings if b.pre_declaration and b.unit_id == unit.id}
    if not member or not declared:
        return {}
    opened = {booking_id: open_answers(b) for booking_id, b in declared.items()}
    begin_write()
    for booking in declared.values():
        audit.record(actor, "pré-déclaration lue", unit, booking.reference)
        security_event("pré-déclaration lue", actor.email, booking=booking.reference)
    db.session.commit()
    return opened


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

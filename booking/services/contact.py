"""The citizen's details and the start they chose, checked as SPEC §3 says, for web and API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from booking.errors import Invalid
from booking.phones import e164

START_FORMAT = "Date et heure ISO 8601 avec décalage attendues (2026-11-24T09:00:00+01:00)."


@dataclass(frozen=True)
class Contact:
    """Who books, validated and normalised."""

    name: str
    email: str
    phone: str
    comment: str


def validate_contact(name: str, email: str, phone: str, comment: str, department: str) -> Contact:
    """Check the citizen's details; Invalid names every wrong field."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not 2 <= len(name) <= 100:
        errors["name"] = "Indiquez votre nom (2 à 100 caractères)."
    try:
        # An SMTPUTF8 address could not be written in a plain message: refused up front.
        email = validate_email(
            email.strip(), check_deliverability=False, allow_smtputf8=False
        ).normalized
    except EmailNotValidError:
        errors["email"] = "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."
    phone = phone.strip()
    if phone:
        number = e164(phone, department)
        if number is None:
            errors["phone"] = "Numéro de téléphone français invalide (exemple : 06 12 34 56 78)."
        else:
            phone = number
    comment = comment.strip()
    if len(comment) > 500:
        errors["comment"] = "Le commentaire ne doit pas dépasser 500 caractères."
    if errors:
        raise Invalid(fields=errors)
    return Contact(name, email, phone, comment)


def parse_start(value: str) -> datetime:
    """An aware datetime from ISO 8601 with an offset, in years a booking can concern."""
    try:
        start = datetime.fromisoformat(value.strip())
    except ValueError:
        start = None
    if start is None or start.tzinfo is None or not 2000 <= start.year <= 2100:
        raise Invalid(fields={"start": START_FORMAT})
    return start

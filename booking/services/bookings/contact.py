"""The citizen's details and the start they chose, checked as SPEC §3 says, for web and API.

Each field's first check is a pattern, and the same pattern is what the OpenAPI document
states (`booking.web.schemas`): a client built from the document sends nothing the
service refuses, and the service refuses everything the document rules out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from booking.domain.text import NOT_SPACE, SPACE, TEXT
from booking.domain.words import N_
from booking.errors import Invalid, SlotUnavailable
from booking.phones import PHONE_PATTERN, e164

NAME_MAX = 100
# Two visible characters at least: 2 to 100 characters once the spaces are folded.
NAME_PATTERN = rf"^{SPACE}*{NOT_SPACE}{TEXT}*{NOT_SPACE}{SPACE}*$"
COMMENT_MAX = 500
COMMENT_PATTERN = rf"^{TEXT}*$"
PHONE_MAX = 40


def _letter(char: str) -> str:
    """A letter in either case, as a pattern."""
    return f"[{char}{char.upper()}]"


def _words_but(excluded: set[str], length: int) -> str | None:
    """A pattern (no lookahead, so that test generators can use it) of every word of
    `length` letters, in any case, except the `excluded` ones; None if none is left."""
    if not excluded:
        return f"[A-Za-z]{{{length}}}"
    if length == 0:
        return None  # the empty word is excluded
    firsts = sorted({word[0] for word in excluded})
    others = "".join(c + c.upper() for c in "abcdefghijklmnopqrstuvwxyz" if c not in firsts)
    branches = [f"[{others}][A-Za-z]{{{length - 1}}}"] if others else []
    for first in firsts:
        rest = _words_but({w[1:] for w in excluded if w[0] == first}, length - 1)
        if rest is not None:
            branches.append(_letter(first) + rest)
    return "(?:" + "|".join(branches) + ")" if branches else None


def _top_level_domain() -> str:
    """2 to 24 letters, but not a special-use name (email_validator refuses them)."""
    special = {"arpa", "invalid", "local", "localhost", "onion", "test"}
    lengths = [
        _words_but({word for word in special if len(word) == length}, length)
        for length in range(2, 25)
    ]
    return "(?:" + "|".join(filter(None, lengths)) + ")"


# What email_validator accepts for a plain (not SMTPUTF8) message, as one pattern without
# lookahead: a dot-atom local part of at most 64 characters, host labels of letters and
# digits joined by single hyphens (at most 62 characters), a top-level domain of letters
# that is not a special-use name. Slightly narrower than the RFCs (no `--`, no punycode,
# no numeric top-level domain): every address it admits is accepted.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = "|".join(
    [
        rf"{_ATEXT}{{1,64}}",
        rf"{_ATEXT}{{1,31}}\.{_ATEXT}{{1,32}}",
        rf"(?:{_ATEXT}{{1,20}}\.){{2}}{_ATEXT}{{1,21}}",
        rf"(?:{_ATEXT}{{1,12}}\.){{3,4}}{_ATEXT}{{1,11}}",
        rf"(?:{_ATEXT}{{1,6}}\.){{5,8}}{_ATEXT}{{1,6}}",
    ]
)
_LABEL = r"[A-Za-z0-9]{1,20}(?:-[A-Za-z0-9]{1,20}){0,2}"
EMAIL_MAX = 254
EMAIL_PATTERN = rf"^{SPACE}*(?:{_LOCAL})@(?:{_LABEL}\.)+{_top_level_domain()}{SPACE}*$"

# A start as the slots list writes it: ISO 8601 with seconds optional, an offset or Z.
START_PATTERN = (
    rf"^{SPACE}*"
    r"(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
    rf"{SPACE}*$"
)
START_FORMAT = N_("Date et heure ISO 8601 avec décalage attendues (2026-11-24T09:00:00+01:00).")

# Providers whose mailboxes ignore dots in the local part (prenom.nom@ = prenomnom@).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

_NAME, _COMMENT, _EMAIL = map(re.compile, (NAME_PATTERN, COMMENT_PATTERN, EMAIL_PATTERN))
_PHONE, _START = re.compile(PHONE_PATTERN), re.compile(START_PATTERN)


@dataclass(frozen=True)
class Contact:
    """Who books, validated and normalised."""

    name: str
    email: str
    phone: str
    comment: str


def validate_contact(
    name: str,
    email: str,
    phone: str,
    comment: str,
    department: str,
    email_optional: bool = False,
) -> Contact:
    """Check the citizen's details; Invalid names every wrong field. With `email_optional`
    (a discreet booking), an empty address is accepted: nothing will be sent."""
    errors: dict[str, str] = {}
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        errors["name"] = N_("Indiquez votre nom (2 à 100 caractères).")
    given = email.strip() != "" or not email_optional
    email = (_email(email) or "") if given else ""
    if given and not email:
        errors["email"] = N_("Adresse électronique invalide (exemple : prenom.nom@exemple.fr).")
    number = e164(phone, department) if len(phone) <= PHONE_MAX and _PHONE.fullmatch(phone) else ""
    if (phone.strip() or len(phone) > PHONE_MAX) and not number:
        errors["phone"] = N_("Numéro de téléphone français invalide (exemple : 06 12 34 56 78).")
    if len(comment) > COMMENT_MAX or not _COMMENT.fullmatch(comment):
        errors["comment"] = N_("Le commentaire ne doit pas dépasser 500 caractères.")
    if errors:
        raise Invalid(fields=errors)
    return Contact(" ".join(name.split()), email, number or "", comment.strip())


def _email(address: str) -> str | None:
    """The normalised address, or None when it is not one a plain message can reach."""
    if len(address) > EMAIL_MAX or not _EMAIL.fullmatch(address):
        return None
    try:
        return validate_email(
            address.strip(), check_deliverability=False, allow_smtputf8=False
        ).normalized
    except EmailNotValidError:
        return None


def mailbox_key(address: str) -> str:
    """The mailbox an address delivers to, for counting bookings per person: lower case,
    without a `+tag`, without dots where the provider ignores them."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}" if local else ""


def parse_start(value: str) -> datetime:
    """An aware datetime from the slots' ISO 8601 form, in years a booking can concern.

    A start written right but that the calendar does not have (30 February) is a start no
    slot has: SlotUnavailable, as for any other start not offered.
    """
    if not _START.fullmatch(value):
        raise Invalid(fields={"start": START_FORMAT})
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise SlotUnavailable(
            N_("Aucun créneau ne commence à cette date : elle n'existe pas.")
        ) from None

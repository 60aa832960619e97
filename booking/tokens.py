"""Secrets of links (manage a booking, a unit's calendar feed): made, derived and hashed here.

Only a hash of a secret is ever stored, so a copy of the database opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_secret() -> str:
    """A fresh random secret for a link (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of a link secret: enough for a 256-bit secret, no salt needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(stored: str, token: str) -> bool:
    """Whether a secret matches a stored hash, in constant time."""
    return hmac.compare_digest(stored, hash_token(token))


def link_token(uid: str, key: bytes) -> str:
    """The secret of a booking's manage link: HMAC of its calendar UID under the links' key
    (booking.keys).

    Derived rather than random so that a later email (the reminder) can carry the link
    again; only its hash is stored, so the database alone cannot forge or reveal one.
    """
    digest = hmac.new(key, f"manage-link:{uid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def confirmation_token(uid: str, key: bytes) -> str:
    """The secret that confirms a hold: carried by its email alone (the booking's answer
    and the pages give the manage link, which can see and free the hold, not confirm it),
    so that only the mailbox's owner makes a booking of it. Derived, never stored."""
    digest = hmac.new(key, f"confirm-hold:{uid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def same_secret(expected: str, given: str) -> bool:
    """Whether a secret given matches the one derived, in constant time."""
    return hmac.compare_digest(expected.encode(), given.encode())


def waitlist_token(reference: str, key: bytes) -> str:
    """The secret of a waiting-list entry's links, derived again whenever an email needs it
    (only its hash is stored)."""
    return link_token(f"waitlist:{reference}", key)

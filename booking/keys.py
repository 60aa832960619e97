"""One key per purpose, derived from SECRET_KEY with HKDF (RFC 5869, SHA-256): the session
cookies, the CSRF tokens, the manage links, the confirmation of holds (whose secret only
their email carries), the waiting-list links, the proof-of-work challenges, the requests'
fingerprints and the staff's TOTP secrets each have their own. A key found for one purpose
(a cookie signature cracked offline, say) opens nothing of the others; SECRET_KEY itself
signs nothing.

SECRET_KEY must hold at least 32 random bytes outside development: 64 hexadecimal
characters, or 43 of base64 (`python -c "import secrets; print(secrets.token_hex(32))"`).
Changing it (or this derivation) ends every session and invalidates the links already sent.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSES: Final = frozenset(
    {
        "sessions",
        "csrf",
        "links",
        "confirmations",
        "waitlist",
        "challenge",
        "fingerprints",
        "pre-declarations",
        "second-factor",
        "admission",
    }
)
MIN_BITS: Final = 256  # 32 random bytes
MIN_DISTINCT: Final = 12  # "abab…" repeated is long, not random


@lru_cache(maxsize=64)
def derive(secret: str, purpose: str) -> bytes:
    """The 32-byte key of a purpose, from a secret."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}")
    info = b"rdv-gendarmerie:" + purpose.encode()
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
    return kdf.derive(secret.encode())


def purpose_key(purpose: str) -> bytes:
    """The running application's key of a purpose."""
    return derive(str(current_app.config["SECRET_KEY"]), purpose)


def estimated_bits(secret: str) -> float:
    """How much randomness a secret can hold at most: its length times the bits of the
    smallest alphabet its characters come from (hexadecimal, base64, printable…)."""
    characters = set(secret)
    if not characters:
        return 0.0
    if characters <= set(string.hexdigits):
        alphabet = 16
    elif characters <= set(string.ascii_letters + string.digits + "-_+/="):
        alphabet = 64
    else:
        alphabet = 94
    return len(secret) * math.log2(alphabet)


def strong_enough(secret: str) -> bool:
    """Whether a secret can hold 32 random bytes and does not repeat a few characters."""
    return estimated_bits(secret) >= MIN_BITS and len(set(secret)) >= MIN_DISTINCT

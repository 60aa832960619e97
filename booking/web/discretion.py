"""Discretion on the site's own pages (SPEC §17): which pages are sensitive, and what a
visit that saw one keeps (the quick exit, the discreet booking ticked in advance)."""

from __future__ import annotations

from flask import session

from booking.models import Booking, Reason


def remember_sensitive(sensitive: bool) -> None:
    """Once a sensitive page is seen, the rest of the visit is discreet: the quick exit on
    every page (the booking that follows, its confirmation…), and a discreet booking ticked
    in advance, whatever the reason chosen."""
    if sensitive and not session.get("sortie"):
        session["sortie"] = True


def sensitive_visit() -> bool:
    """Whether this visit saw a sensitive page."""
    return bool(session.get("sortie"))


def is_discreet(reason: Reason | None = None, booking: Booking | None = None) -> bool:
    """Whether a page about this reason or booking is sensitive: a discreet reason, a
    discreet booking, or a visit that saw a sensitive page."""
    return bool(
        (reason is not None and reason.discreet)
        or (booking is not None and (booking.discreet or booking.reason.discreet))
        or sensitive_visit()
    )

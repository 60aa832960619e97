"""Video appointments' rooms (SPEC §12).

A room's name is a secret drawn at random when the booking is made (never the reference nor
an id, which others may know), kept with the booking, moved with it, and erased when it is
cancelled. The link, `{VIDEO_ROOM_URL}/{room}`, is written only where the citizen and the
unit's own staff read it: the citizen's email, invitation and manage page, and the unit's
agenda. It opens from `OPENS_BEFORE` the start until the end of the appointment: the
manage page offers to join only then (a plain Jitsi server does not enforce it; the name's
secrecy does the rest).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app

from booking.domain.capacity import VIDEO
from booking.models import ACTIVE_STATUSES, Booking

OPENS_BEFORE = timedelta(minutes=15)
ROOM_BYTES = 24  # 192 bits: 32 characters of [A-Za-z0-9_-]


def new_room(mode: str) -> str:
    """A new secret room name for a video booking; "" for any other mode."""
    return secrets.token_urlsafe(ROOM_BYTES) if mode == VIDEO else ""


def room_url(booking: Booking) -> str:
    """The booking's room link, or "" (not a video booking, or cancelled)."""
    if booking.mode != VIDEO or not booking.video_room or booking.status not in ACTIVE_STATUSES:
        return ""
    return f"{current_app.config['VIDEO_ROOM_URL']}/{booking.video_room}"


def provider_origin() -> str:
    """The video provider's origin (scheme and host), for the page that tests its reach."""
    parts = urlsplit(current_app.config["VIDEO_ROOM_URL"])
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def opens_at(booking: Booking) -> datetime:
    """When the room can be joined."""
    return booking.starts_at - OPENS_BEFORE


def is_open(booking: Booking, now: datetime) -> bool:
    """Whether the room can be joined now: from OPENS_BEFORE the start to the end."""
    return bool(room_url(booking)) and opens_at(booking) <= now < booking.ends_at

"""What templates may call: French dates and times in a unit's zone, distances."""

from __future__ import annotations

import re

from flask import Flask, current_app
from markupsafe import Markup, escape

from booking.formatting import dates_fr, day_fr, of_place, time_fr, when_fr, zone_fr
from booking.models import Reason
from booking.phones import spoken_phone
from booking.services.messages.notifications import NEUTRAL_LABEL
from booking.services.slots.offered import MODE_NAMES
from booking.web.discretion import is_discreet


def distance_fr(km: float) -> str:
    """`3,4 km`."""
    return f"{km:.1f}".replace(".", ",") + " km"


def contact_link(contact: str) -> str:
    """The link of a contact setting: an address gets `mailto:`, a web page stays."""
    contact = contact.strip()
    if contact.startswith(("https://", "http://", "mailto:")):
        return contact
    return "mailto:" + contact


def code_spans(text: str) -> Markup:
    """Text whose `back-quoted` parts are code, as OpenAPI descriptions write them."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def administration() -> Markup:
    """The administration's name as the State's logo block sets it, a line per `|`."""
    lines = current_app.config["SITE_ADMINISTRATION"].split("|")
    return Markup("<br>").join(line.strip() for line in lines if line.strip())


def init_app(app: Flask) -> None:
    """Register the filters: `{{ slot.start | when(unit.timezone) }}`."""
    app.jinja_env.filters.update(
        when=when_fr,
        day=day_fr,
        hour=time_fr,
        dates=dates_fr,
        zone=zone_fr,
        distance=distance_fr,
        of_place=of_place,
        contact_link=contact_link,
        code_spans=code_spans,
        mode_name=lambda mode: MODE_NAMES.get(mode, ""),
        phone=spoken_phone,
    )
    app.jinja_env.globals["administration"] = administration
    app.jinja_env.globals["shown_reason"] = shown_reason


def shown_reason(reason: Reason) -> str:
    """A reason's label as the journey's pages show it: neutral in a discreet visit (the
    browser keeps pages it saw; someone may press Back)."""
    return NEUTRAL_LABEL if is_discreet(reason) else reason.label

"""What templates may call: dates and times in a unit's zone and distances, written in the
page's language (booking.formatting), and the service's own small helpers."""

from __future__ import annotations

import re

from babel.numbers import format_decimal
from flask import Flask, current_app
from markupsafe import Markup, escape

from booking.formatting import (
    LOCALES,
    dates_of,
    day_of,
    distance_of,
    of_place,
    time_of,
    when_of,
    zone_of,
)
from booking.models import Reason
from booking.phones import spoken_phone
from booking.services.messages.notifications import NEUTRAL_LABEL
from booking.services.slots.offered import MODE_NAMES
from booking.web.discretion import is_discreet
from booking.web.languages import current_language, say


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
        when=lambda moment, zone: when_of(moment, zone, current_language()),
        day=lambda moment, zone: day_of(moment, zone, current_language()),
        hour=lambda moment, zone: time_of(moment, zone, current_language()),
        dates=lambda first, last: dates_of(first, last, current_language()),
        zone=lambda zone: zone_of(zone, current_language()),
        distance=lambda km: distance_of(km, current_language()),
        of_place=lambda label: of_place(label, current_language()),
        contact_link=contact_link,
        code_spans=code_spans,
        mode_name=lambda mode: say(MODE_NAMES.get(mode, "")),
        phone=spoken_phone,
        decimal=lambda value: format_decimal(
            value, format="0.0", locale=LOCALES.get(current_language(), "fr_FR")
        ),
    )
    app.jinja_env.globals["administration"] = administration
    app.jinja_env.globals["shown_reason"] = shown_reason


def shown_reason(reason: Reason) -> str:
    """A reason's label as the journey's pages show it: neutral in a discreet visit (the
    browser keeps pages it saw; someone may press Back)."""
    return say(NEUTRAL_LABEL if is_discreet(reason) else reason.label)

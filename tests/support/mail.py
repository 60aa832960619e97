"""An outbox entry's email as the job runner renders it when it sends."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage

from flask import Flask

from booking.models import OutboxMessage
from booking.services.messages.notifications import message_of


def as_sent(app: Flask, entry: OutboxMessage) -> str:
    """The MIME text the runner would send for this entry now."""
    with app.app_context():
        return message_of(entry)


def rendered(app: Flask, entry: OutboxMessage) -> EmailMessage:
    """The entry's email, parsed."""
    parsed = email.message_from_string(as_sent(app, entry), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text_of(message: EmailMessage) -> str:
    """The plain-text part of an email."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, base_url: str = "http://rdv.test") -> str:
    """The site's link in an email's text (the first one that opens a booking), as a path."""
    found = re.search(re.escape(base_url) + r"(/rendez-vous/[^\s]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)

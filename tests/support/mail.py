"""An outbox entry's email as the job runner renders it when it sends."""

from __future__ import annotations

import email
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

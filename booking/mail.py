"""Emails: rendered from templates/emails/*, written to the outbox, sent by the job runner."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from booking import clock
from booking.extensions import db
from booking.models import OutboxMessage

log = logging.getLogger(__name__)


def compose(
    *,
    to: str,
    to_name: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    calendar: bytes | None = None,
    calendar_method: str = "",
) -> EmailMessage:
    """A multipart text + HTML message in French, with an optional .ics invitation."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = str(Address(display_name=to_name, addr_spec=to))
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "fr"
    message.set_content(render_template(f"emails/{template}.txt", **context))
    message.add_alternative(render_template(f"emails/{template}.html", **context), subtype="html")
    if calendar is not None:
        # The MIME method must equal the METHOD inside, or some clients reject the invitation.
        message.add_attachment(
            calendar,
            maintype="text",
            subtype="calendar",
            filename="rendez-vous.ics",
            params={"method": calendar_method, "charset": "utf-8"},
        )
    return message


def enqueue(message: EmailMessage, kind: str, booking_id: int | None = None) -> OutboxMessage:
    """Add the message to the outbox in the caller's transaction (committed with the change)."""
    now = clock.now()
    entry = OutboxMessage(
        created_at=now,
        kind=kind,
        booking_id=booking_id,
        recipient=parseaddr(str(message["To"]))[1],
        subject=str(message["Subject"]),
        # CRLF line ends, as SMTP wants them (smtplib does not convert bytes it is given).
        message=message.as_string(policy=SMTP),
        next_attempt_at=now,
    )
    db.session.add(entry)
    return entry


def deliver(entry: OutboxMessage) -> None:
    """Send one outbox message by SMTP, or write it as a .eml file when SMTP is not set up."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        folder = Path(current_app.instance_path) / "emails"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{entry.id:06d}-{entry.kind}.eml"
        path.write_bytes(entry.message.encode("utf-8"))
        log.info("email %s (%s) written to %s", entry.id, entry.kind, path)
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        sender = parseaddr(config["MAIL_FROM"])[1]
        smtp.sendmail(sender, [entry.recipient], entry.message.encode("utf-8"))
    log.info("email %s (%s) sent", entry.id, entry.kind)


def mark_failed(entry: OutboxMessage, error: Exception, now: datetime) -> None:
    """Record a failed attempt and when to try again: 30 s, 1 min, 2 min… at most 1 h apart."""
    entry.attempts += 1
    entry.last_error = f"{type(error).__name__}: {error}"[:500]
    delay = min(30 * 2 ** (entry.attempts - 1), 3600)
    entry.next_attempt_at = now + timedelta(seconds=delay)

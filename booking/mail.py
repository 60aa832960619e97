"""Emails: rendered from templates/emails/*, written to the outbox, sent by the job runner."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import HeaderParser
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from sqlalchemy import insert

from booking import clock
from booking.database import run
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
    message_key: str = "",
    sender: str = "",
    language: str = "fr",
) -> EmailMessage:
    """A multipart text + HTML message in `language` (its templates are rendered in the
    caller's locale: see flask_babel.force_locale), with an optional .ics invitation;
    `message_key` gives a Message-ID of its own (the same on every attempt to send);
    `sender` replaces MAIL_FROM (a discreet booking's neutral sender)."""
    sender = sender or current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = str(Address(display_name=to_name, addr_spec=to))
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = (
        f"<{message_key}@{domain or 'localhost'}>" if message_key else make_msgid(domain=domain)
    )
    message["Auto-Submitted"] = "auto-generated"
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
    # Last: setting the content, or making it multipart, moves or drops Content-* headers.
    message["Content-Language"] = language
    return message


def enqueue_notice(
    kind: str,
    booking_id: int | None,
    recipient: str,
    notice: str,
    waitlist_entry_id: int | None = None,
) -> None:
    """Add what to say (a notice, rendered when sent) to the outbox, in the caller's
    transaction: committed with the change, or not at all. One INSERT, without the ORM's
    unit of work: it runs inside the write lock of every booking."""
    now = clock.now()
    values = {
        "kind": kind,
        "booking_id": booking_id,
        "waitlist_entry_id": waitlist_entry_id,
        "recipient": recipient,
        "notice": notice,
    }
    run(_INSERT_NOTICE, {**values, "created_at": now, "next_attempt_at": now})


_INSERT_NOTICE = insert(OutboxMessage.__table__).values(
    subject="", message="", attempts=0, last_error=""
)


def enqueue(message: EmailMessage, kind: str, booking_id: int | None = None) -> OutboxMessage:
    """Add a message composed whole to the outbox in the caller's transaction."""
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


def deliver(entry: OutboxMessage, message: str) -> None:
    """Send one outbox entry's message by SMTP, or write it as a .eml file when SMTP is not
    set up."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        folder = Path(current_app.instance_path) / "emails"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{entry.id:06d}-{entry.kind}.eml"
        path.write_bytes(message.encode("utf-8"))
        log.info("email %s (%s) written to %s", entry.id, entry.kind, path)
        return
    tls = ssl.create_default_context()
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=30, context=tls)
        if config["SMTP_SSL"]
        else smtplib.SMTP(host, port, timeout=30)
    )
    with smtp:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            smtp.starttls(context=tls)
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        # The envelope's sender is the message's own (a discreet booking's is neutral).
        sender = parseaddr(HeaderParser().parsestr(message, headersonly=True)["From"] or "")[1]
        sender = sender or parseaddr(config["MAIL_FROM"])[1]
        smtp.sendmail(sender, [entry.recipient], message.encode("utf-8"))
    log.info("email %s (%s) sent", entry.id, entry.kind)


def mark_failed(entry: OutboxMessage, error: Exception, now: datetime) -> None:
    """Record a failed attempt and when to try again: 30 s, 1 min, 2 min… at most 1 h apart."""
    entry.attempts += 1
    entry.last_error = f"{type(error).__name__}: {error}"[:500]
    delay = min(30 * 2 ** (entry.attempts - 1), 3600)
    entry.next_attempt_at = now + timedelta(seconds=delay)

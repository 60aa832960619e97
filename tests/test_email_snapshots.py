"""Rendered emails compared with reviewed snapshots (UPDATE_SNAPSHOTS=1 rewrites them)."""

from __future__ import annotations

import email
import os
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from flask import Flask

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Reason, Unit
from booking.services.messages import notifications
from booking.services.messages.notifications import Notice

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def sample_booking(reason_code: str, department: str = "01") -> Booking:
    """A booking with fixed values, not saved."""
    unit = Unit(
        public_id="01281-01",
        name="Gendarmerie - Brigade de proximité d'Ornex",
        address="124 Rue de Béjoud 01210 ORNEX",
        street="124 Rue de Béjoud",
        postcode="01210",
        commune="Ornex",
        department=department,
        latitude=46.27591,
        longitude=6.09523,
        phone="+33 4 50 40 59 30",
        timezone="Europe/Paris" if department == "01" else "Indian/Reunion",
    )
    booking = Booking(
        id=42,
        reference="K7PM2QXH",
        reason_code=reason_code,
        starts_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        status="confirmed",
        name="Camille Martin",
        email="camille@example.org",
        ics_uid="0f1e2d3c@rdv.test",
        ics_sequence=0,
        updated_at=datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
    )
    booking.unit = unit
    booking.reason = db.session.get(Reason, reason_code)
    return booking


@pytest.fixture(autouse=True)
def placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The manage link's secret, derived when rendering, shows as SECRET in the snapshots."""
    monkeypatch.setattr(notifications, "link_token", lambda uid, key: "SECRET")


def rendered(app: Flask, kind: str, reason_code: str, department: str = "01") -> str:
    """Subject, text and HTML of one email kind, as one comparable document: recorded as a
    notice in the change's transaction, rendered as the job runner sends it."""
    with app.app_context():
        booking = sample_booking(reason_code, department)
        notice = {
            "confirmation": lambda: Notice.of("confirmation", booking),
            "moved": lambda: Notice.of(
                "moved", booking, previous_start=datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
            ),
            "reminder": lambda: Notice.of("reminder", booking),
            "cancellation": lambda: Notice.of("cancellation", booking),
            "cancelled_by_unit": lambda: Notice.of(
                "cancellation", booking, by_unit_reason="Fermeture exceptionnelle de la brigade."
            ),
        }[kind]()
        entry = OutboxMessage(
            id=7,
            kind=notice.kind,
            notice=notice.to_json(),  # as the outbox keeps it
            created_at=datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
        )
        text = notifications.message_of(entry)
        db.session.rollback()
    message = email.message_from_string(text, policy=policy.default)
    parts = {part.get_content_type(): part for part in message.walk()}
    return (
        f"Subject: {message['Subject']}\n"
        f"To: {message['To']}\n"
        f"Attachments: {[p.get_filename() for p in message.walk() if p.get_filename()]}\n"
        f"\n--- text/plain ---\n{parts['text/plain'].get_content()}"
        f"\n--- text/html ---\n{parts['text/html'].get_content()}"
    ).replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("kind", "reason", "department"),
    [
        ("confirmation", "otv", "01"),
        ("confirmation", "radicalisation", "01"),  # discreet: neutral wording
        ("confirmation", "otv", "974"),  # overseas: the zone is named
        ("moved", "otv", "01"),
        ("reminder", "otv", "01"),
        ("cancellation", "otv", "01"),
        ("cancelled_by_unit", "otv", "01"),
    ],
)
@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
def test_email_matches_its_snapshot(app: Flask, kind: str, reason: str, department: str) -> None:
    text = rendered(app, kind, reason, department)
    path = SNAPSHOTS / f"{kind}-{reason}-{department}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")

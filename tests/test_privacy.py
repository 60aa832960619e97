"""Personal data: erased after the retention period, counts kept; a page says so."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEntry, Booking, OutboxMessage, Unit
from booking.services.privacy import purge_personal_data

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_old_bookings_lose_their_personal_data_but_stay_counted(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    unit = create_unit()
    old = create_booking(
        unit, NOW - timedelta(days=91), name="Ancien", phone="+33612345678", comment="vol"
    )
    recent = create_booking(unit, NOW - timedelta(days=89), name="Récent")
    with app.app_context():
        sent = NOW - timedelta(days=91)
        db.session.add(
            OutboxMessage(
                kind="confirmation",
                booking_id=old.id,
                recipient=old.email,
                subject="s",
                message="Ancien",
                sent_at=sent,
            )
        )
        db.session.commit()
        assert purge_personal_data(NOW) == 1
        assert purge_personal_data(NOW) == 0  # once
        erased = db.session.get(Booking, old.id)
        assert (erased.name, erased.email, erased.phone, erased.comment) == ("", "", "", "")
        assert erased.anonymised_at == NOW
        assert erased.status == "confirmed"
        assert erased.reason_code == "signalement"
        assert db.session.get(Booking, recent.id).name == "Récent"
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert db.session.scalar(select(func.count(Booking.id))) == 2


def test_a_purge_erases_cancellation_reasons_old_audit_rows_and_old_email_files(
    app: Flask, create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]
) -> None:
    unit = create_unit()
    old = create_booking(
        unit,
        NOW - timedelta(days=91),
        status="cancelled_by_unit",
        cancel_reason="Mme Dupont a appelé : son ex-conjoint sera présent",
    )
    folder = Path(app.instance_path) / "emails"
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / "000001-confirmation.eml", folder / "000002-confirmation.eml"
    for path, age in ((stale, 91), (fresh, 10)):
        path.write_text("To: Camille <camille@example.org>\n\nhttp://rdv.test/?token=x")
        moment = (NOW - timedelta(days=age)).timestamp()
        os.utime(path, (moment, moment))
    with app.app_context():
        for age in (400, 300):
            db.session.add(
                AuditEntry(
                    at=NOW - timedelta(days=age),
                    actor_email="agent@gendarmerie.interieur.gouv.fr",
                    unit_id=unit.id,
                    action="visite",
                    target=old.reference,
                    before="",
                    after="",
                )
            )
        db.session.commit()
        purge_personal_data(NOW)
        assert db.session.get(Booking, old.id).cancel_reason == ""
        kept = db.session.scalars(select(AuditEntry.at)).all()
        assert kept == [NOW - timedelta(days=300)]  # a year's audit, no more
    assert not stale.exists()
    assert fresh.exists()


def test_privacy_page(client: FlaskClient) -> None:
    page = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "effacées 90 jours après" in page
    assert "CNIL" in page
    assert 'href="/donnees-personnelles"' in client.get("/").get_data(as_text=True)

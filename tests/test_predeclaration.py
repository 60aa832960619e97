"""Pre-declarations: typed with the booking, read by the unit's staff only, sealed at rest,
absent from every email, invitation, calendar feed, log line and public answer."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from booking.config import ConfigurationError
from booking.extensions import db
from booking.models import AuditEntry, Booking, Unit
from booking.services.bookings import predeclarations
from booking.services.messages.outbox import send_outbox
from booking.services.privacy import purge_personal_data
from booking.services.staff.accounts import create_staff
from tests.support.smtp import SmtpServer
from tests.support.staff import PASSWORD, csrf, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
WEDNESDAY_10 = "2026-11-25T10:00:00+01:00"
# Words that appear nowhere else: finding any of them somewhere is a leak.
SECRET = "Zéphyrin Quastrelle a menacé ma fille devant l'école Jacquard"
SECRET_WORDS = ("Quastrelle", "Zéphyrin", "Jacquard")
AGENT = "agent@gendarmerie.interieur.gouv.fr"


@pytest.fixture
def app_overrides(smtp: SmtpServer) -> dict[str, Any]:
    """Emails go to the test's SMTP server."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit in Ornex; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=2)


def details_url(motif: str = "faits_auteur_connu", start: str = WEDNESDAY_10) -> str:
    """The details form of a slot."""
    return f"/unites/ORNEX/rendez-vous?motif={motif}&debut={start.replace('+', '%2B')}"


def book_on_the_web(client: FlaskClient, motif: str = "faits_auteur_connu", **answers: str) -> Any:
    """Open the form of Wednesday 10:00 and send it with these pre-declaration answers."""
    page = client.get(details_url(motif)).get_data(as_text=True)
    data = {
        "csrf_token": csrf(page),
        "debut": WEDNESDAY_10,
        "name": "Camille Martin",
        "email": "camille@example.org",
        **{f"pre_declaration.{name}": value for name, value in answers.items()},
    }
    return client.post(f"/unites/ORNEX/rendez-vous?motif={motif}", data=data)


def stored(app: Flask) -> list[str]:
    """The pre-declaration column as the database holds it, read without the ORM."""
    with app.app_context():
        return list(db.session.scalars(text("SELECT pre_declaration FROM bookings ORDER BY id")))


@pytest.mark.usefixtures("unit")
def test_the_form_offers_the_reasons_fields_and_keeps_them_on_an_error(client: FlaskClient) -> None:
    page = client.get(details_url()).get_data(as_text=True)
    assert "Pour préparer votre venue (facultatif)" in page
    assert 'id="pre_declaration.date_faits" name="pre_declaration.date_faits" type="date"' in page
    assert 'maxlength="1000"' in page
    # another reason, without pre-declaration: no such fieldset
    assert "Pour préparer" not in client.get(details_url("signalement")).get_data(as_text=True)

    response = book_on_the_web(client, date_faits="2099-01-01", resume=SECRET)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#pre_declaration.date_faits">Date des faits : une date passée' in page
    assert SECRET.replace("'", "&#39;") in page  # what was typed is kept


def test_a_pre_declaration_is_sealed_and_only_the_units_staff_read_it(
    app: Flask, client: FlaskClient, unit: Unit, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="GEX")
    response = book_on_the_web(client, date_faits="2026-11-02", resume=SECRET)
    assert response.status_code == 303
    [token] = stored(app)
    assert token.startswith("gAAAAA")  # a Fernet token…
    assert not any(word.encode() in token.encode() for word in SECRET_WORDS)
    with pytest.raises(InvalidToken):  # …that another key does not open
        Fernet(Fernet.generate_key()).decrypt(token.encode())

    with app.app_context():
        create_staff(AGENT, PASSWORD, ["ORNEX"])
        create_staff("autre@gendarmerie.interieur.gouv.fr", PASSWORD, ["GEX"])
    staff = app.test_client()
    sign_in(staff, AGENT)
    agenda = staff.get("/staff/units/ORNEX/agenda?date=2026-11-25").get_data(as_text=True)
    assert "Pré-déclaration" in agenda
    assert "Date des faits</dt><dd>02/11/2026" in agenda
    assert SECRET.replace("'", "&#39;") in agenda
    # the day's spreadsheet, which travels, does not carry it
    sheet = staff.get("/staff/units/ORNEX/agenda.csv?date=2026-11-25").get_data(as_text=True)
    assert "Camille Martin" in sheet
    assert "Quastrelle" not in sheet
    # an agent of other units does not see this unit's agenda at all
    other = app.test_client()
    sign_in(other, "autre@gendarmerie.interieur.gouv.fr")
    assert other.get("/staff/units/ORNEX/agenda?date=2026-11-25").status_code == 404


def test_an_administrator_outside_the_unit_reads_no_pre_declaration_and_reads_are_audited(
    app: Flask, client: FlaskClient, unit: Unit, caplog: pytest.LogCaptureFixture
) -> None:
    """SPEC §10: the unit's own staff only, whatever the role; each read is in the audit
    log (who, when, which booking) and told to the security log, without the text."""
    caplog.set_level(logging.INFO)
    assert book_on_the_web(client, date_faits="2026-11-02", resume=SECRET).status_code == 303
    with app.app_context():
        create_staff("admin@interieur.gouv.fr", PASSWORD, [], admin=True)
        create_staff(AGENT, PASSWORD, ["ORNEX"])
        reference = db.session.scalar(select(Booking.reference))
    admin = app.test_client()
    sign_in(admin, "admin@interieur.gouv.fr")
    page = admin.get("/staff/units/ORNEX/agenda?date=2026-11-25")
    assert page.status_code == 200  # an administrator reaches every unit's agenda…
    shown = page.get_data(as_text=True)
    assert "Camille Martin" in shown
    assert "lisible par les seuls agents de l'unité" in shown
    assert not any(word in shown for word in SECRET_WORDS)  # …but not what was declared
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "pré-déclaration lue")
        ).all()

    agent = app.test_client()
    sign_in(agent, AGENT)
    agenda = agent.get("/staff/units/ORNEX/agenda?date=2026-11-25").get_data(as_text=True)
    assert SECRET.replace("'", "&#39;") in agenda
    with app.app_context():
        [read] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "pré-déclaration lue")
        ).all()
        assert (read.actor_email, read.target) == (AGENT, reference)
        assert read.at is not None
    events = [r for r in caplog.records if r.name == "booking.security"]
    assert any(r.fields["event"] == "pré-déclaration lue" for r in events)  # type: ignore[attr-defined]
    assert not any(word in caplog.text for word in SECRET_WORDS)


def test_the_text_appears_in_no_email_invitation_feed_log_or_public_answer(
    app: Flask, client: FlaskClient, unit: Unit, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    response = book_on_the_web(client, date_faits="2026-11-02", resume=SECRET)
    confirmation = client.get(response.headers["Location"])
    seen.append(confirmation.get_data(as_text=True))
    manage = re.search(r'href="(/rendez-vous/[^"]+\?token=[^"]+)"', seen[0])
    assert manage, "the confirmation page links to the manage page"
    seen.append(client.get(manage.group(1).replace("&amp;", "&")).get_data(as_text=True))
    api = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "faits_auteur_connu",
            "start": WEDNESDAY_10,
            "name": "Dominique Roux",
            "email": "dominique@example.org",
            "declaration": {"resume": SECRET, "date_faits": "2026-11-01"},  # SPEC §5's name
        },
    )
    assert api.status_code == 201
    seen.append(api.get_data(as_text=True))
    seen.append(client.get("/api/v1/motifs").get_data(as_text=True))
    seen.append(client.get("/api/v1/units/ORNEX").get_data(as_text=True))
    with app.app_context():
        assert send_outbox(MONDAY_7AM) == 2
    messages = smtp.messages
    assert len(messages) == 2
    for message in messages:
        seen.append(message.as_string())  # every part, the .ics invitation included
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                seen.append(payload.decode("utf-8", "replace"))
    with app.app_context():
        user = create_staff(AGENT, PASSWORD, ["ORNEX"])
        from booking.services.staff.agenda import new_feed_token

        feed_token = new_feed_token(user, db.session.get(Unit, unit.id))
    feed = client.get(f"/staff/units/ORNEX/agenda.ics?token={feed_token}")
    assert feed.status_code == 200
    assert b"BEGIN:VEVENT" in feed.data
    seen.append(feed.get_data(as_text=True))
    seen.append(caplog.text)
    assert caplog.text  # the requests were logged…
    for where in seen:
        for word in SECRET_WORDS:
            assert word not in where  # …and nothing of the text is anywhere
    # both bookings hold it, sealed
    assert all(value.startswith("gAAAAA") for value in stored(app))


def test_erasing_personal_data_erases_the_pre_declaration(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    book_on_the_web(client, resume=SECRET)
    with app.app_context():
        assert purge_personal_data(MONDAY_7AM + timedelta(days=400)) == 1
    assert stored(app) == [""]


def test_api_refuses_answers_the_reason_does_not_define(client: FlaskClient, unit: Unit) -> None:
    base = {
        "unit_id": "ORNEX",
        "start": WEDNESDAY_10,
        "name": "Dominique Roux",
        "email": "dominique@example.org",
    }
    wrong = client.post(
        "/api/v1/bookings",
        json={**base, "motif": "otv", "pre_declaration": {"debut_absence": "2026-11-01"}},
    )
    assert wrong.status_code == 422
    assert wrong.json["fields"] == {
        "pre_declaration.debut_absence": "Premier jour d'absence : une date à venir ou celle"
        " d'aujourd'hui."
    }
    none = client.post(
        "/api/v1/bookings",
        json={**base, "motif": "signalement", "pre_declaration": {"resume": "x"}},
    )
    assert none.status_code == 422
    assert "pre_declaration" in none.json["fields"]
    spec_named = client.post(  # SPEC §5's name for it; `pre_declaration` is kept as well
        "/api/v1/bookings",
        json={**base, "motif": "otv", "declaration": {"debut_absence": "2026-11-01"}},
    )
    assert spec_named.status_code == 422
    assert list(spec_named.json["fields"]) == ["pre_declaration.debut_absence"]
    fields = {m["code"]: m["declaration_fields"] for m in client.get("/api/v1/motifs").json}
    assert fields["otv"][0] == {
        "name": "debut_absence",
        "label": "Premier jour d'absence",
        "type": "date",
        "required": False,
        "max_length": None,
    }
    assert fields["signalement"] == []
    listed = {m["code"]: m["pre_declaration"] for m in client.get("/api/v1/motifs").json}
    assert [f["name"] for f in listed["otv"]["fields"]] == [
        "debut_absence",
        "fin_absence",
        "adresse",
    ]
    assert listed["signalement"] is None


def test_keys_rotate_and_the_old_key_can_then_be_dropped(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def use(*keys: str) -> None:
        app.config["PRE_DECLARATION_KEYS"] = list(keys)
        predeclarations.init_app(app)

    def read() -> list[tuple[str, str]]:
        with app.app_context():
            return predeclarations.open_answers(db.session.scalars(select(Booking)).one())

    use(old)
    book_on_the_web(client, resume=SECRET)
    [before] = stored(app)
    use(new)  # the new key alone does not open what the old one sealed
    assert read() == [
        ("Pré-déclaration", "illisible avec les clés actuelles (PRE_DECLARATION_KEYS)")
    ]
    use(new, old)
    result = app.test_cli_runner().invoke(args=["bookings", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "Pré-déclarations chiffrées avec la nouvelle clé : 1" in result.output
    [after] = stored(app)
    assert after != before
    use(new)  # the old key is no longer needed
    assert read() == [("Résumé des faits", SECRET)]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "PRE_DECLARATION_KEYS est obligatoire hors développement"),
        ("pas-une-clé", "chaque clé est une clé Fernet"),
    ],
)
def test_production_needs_valid_keys(keys: str, message: str) -> None:
    config = {"APP_ENV": "production", "SECRET_KEY": "s", "PRE_DECLARATION_KEYS": keys.split()}
    with pytest.raises(ConfigurationError, match=message):
        predeclarations._box(config)


def test_an_api_requests_fingerprint_cannot_be_guessed_from_a_dump(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    """The Idempotency-Key's stored fingerprint is keyed by the service's secret: a database
    dump cannot test guesses of a short pre-declaration against it."""
    body = {
        "unit_id": "ORNEX",
        "motif": "remise_arme",
        "start": WEDNESDAY_10,
        "name": "Dominique Roux",
        "email": "dominique@example.org",
        "pre_declaration": {"categorie": "poing", "nombre": "2"},
    }
    assert (
        client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    with app.app_context():
        [stored_print] = db.session.scalars(text("SELECT fingerprint FROM submitted_once"))
    for guess in ({"categorie": "poing", "nombre": "2"}, {"categorie": "epaule", "nombre": "1"}):
        canonical = json.dumps(
            {**body, "phone": "", "comment": "", "pre_declaration": guess},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        assert hashlib.sha256(canonical.encode()).hexdigest() != stored_print
    # the same body again is still recognised: the answer is replayed
    again = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert len(stored(app)) == 1


@pytest.mark.usefixtures("unit")
def test_fields_left_empty_are_no_pre_declaration(app: Flask, client: FlaskClient) -> None:
    # a reason without a form, sent the fields of another (a page opened before a change)
    assert book_on_the_web(client, "signalement", resume="", date_faits=" ").status_code == 303
    assert stored(app) == [""]


def test_pages_showing_a_pre_declaration_are_kept_out_of_caches(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    failed = book_on_the_web(client, date_faits="2099-01-01", resume=SECRET)
    assert failed.headers["Cache-Control"] == "no-store"
    book_on_the_web(client, date_faits="2026-11-01", resume=SECRET)
    with app.app_context():
        create_staff(AGENT, PASSWORD, ["ORNEX"])
    staff = app.test_client()
    sign_in(staff, AGENT)
    agenda = staff.get("/staff/units/ORNEX/agenda?date=2026-11-25")
    assert "Quastrelle" in agenda.get_data(as_text=True)
    assert agenda.headers["Cache-Control"] == "no-store"


def test_a_partner_books_by_video_with_a_declaration_sealed_in_the_database_file(
    app: Flask, client: FlaskClient, unit: Unit, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """What the site gives, a partner gets (SPEC §5, §12): a declaration and a mode through
    the API with a key; the text is nowhere but sealed, down to the database's own file."""
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        db.session.get(Unit, unit.id).remote_lines = 1
        db.session.commit()
        from booking.services.staff.api_keys import issue_key

        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        _, key = issue_key(admin, "Ma Sécurité")
    answer = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "faits_auteur_connu",
            "mode": "video",
            "start": WEDNESDAY_10,
            "name": "Dominique Roux",
            "email": "dominique@example.org",
            "declaration": {"resume": SECRET, "date_faits": "2026-11-01"},
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 201, answer.json
    assert (answer.json["status"], answer.json["mode"]) == ("confirmed", "video")
    with app.app_context():
        assert send_outbox(MONDAY_7AM) == 1
        booking = db.session.scalars(select(Booking)).one()
        assert booking.channel == "partner_api"
        db.session.remove()
        db.engine.dispose()  # everything written to the file
    seen = [answer.get_data(as_text=True), caplog.text, smtp.messages[0].as_string()]
    for part in smtp.messages[0].walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            seen.append(payload.decode("utf-8", "replace"))
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):  # the file itself, as a thief would read it
        base = Path(uri.removeprefix("sqlite:///"))
        for path in (base, base.with_name(base.name + "-wal")):
            if path.exists():
                seen.append(path.read_bytes().decode("utf-8", "replace"))
    for where in seen:
        for word in SECRET_WORDS:
            assert word not in where
    assert all(value.startswith("gAAAAA") for value in stored(app))

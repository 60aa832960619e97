"""The second factor of password accounts (SPEC §15): TOTP set up at the first sign-in with
a QR code, required afterwards, checked with the real algorithm (pyotp, RFC 6238) under a
frozen clock; ten single-use recovery codes kept hashed; attempts rate-limited per account
and per address; an administrator's reset, audited; passwords refused when the service is
set to ProConnect only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEntry, RecoveryCode, StaffSession, StaffUser
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, csrf, setup_secret, sign_in

AGENT = "agent@gendarmerie.interieur.gouv.fr"
ADMIN = "admin@gendarmerie.interieur.gouv.fr"
NOON = datetime(2026, 11, 23, 11, 0, 0, tzinfo=UTC)


@pytest.fixture
def accounts(
    app: Flask, create_unit: Callable[..., object], frozen_now: Callable[..., None]
) -> None:
    frozen_now(NOON)
    create_unit(public_id="UNIT-A", name="Brigade A")
    with app.app_context():
        create_staff(AGENT, PASSWORD, ["UNIT-A"])
        create_staff(ADMIN, PASSWORD, [], admin=True)


def password_step(client: FlaskClient, mail: str = AGENT, address: str = "127.0.0.1") -> str:
    """Email and password: where the service sends the browser next."""
    page = client.get("/staff/login").get_data(as_text=True)
    answer = client.post(
        "/staff/login",
        data={"csrf_token": csrf(page), "email": mail, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )
    assert answer.status_code == 303
    return answer.headers["Location"]


def type_code(client: FlaskClient, code: str, address: str = "127.0.0.1") -> tuple[int, str]:
    page = client.get("/staff/login").get_data(as_text=True)  # the session's CSRF token
    answer = client.post(
        "/staff/login/code",
        data={"csrf_token": csrf(page), "code": code},
        environ_base={"REMOTE_ADDR": address},
    )
    return answer.status_code, answer.get_data(as_text=True)


def enrol(client: FlaskClient, mail: str = AGENT) -> tuple[str, list[str]]:
    """A first sign-in: the key of the set-up page, and the recovery codes shown."""
    assert password_step(client, mail) == "/staff/login/second-facteur"
    page = client.get("/staff/login/second-facteur").get_data(as_text=True)
    secret = setup_secret(page)
    answer = client.post(
        "/staff/login/second-facteur",
        data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).at(NOON)},
    )
    assert answer.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]{14})</code></li>", answer.get_data(as_text=True))
    return secret, codes


@pytest.mark.usefixtures("accounts")
def test_the_first_sign_in_sets_up_the_app_with_a_qr_code_and_shows_ten_codes_once(
    app: Flask, client: FlaskClient
) -> None:
    assert password_step(client) == "/staff/login/second-facteur"
    assert client.get("/staff/").status_code == 302  # a password alone opens nothing
    page = client.get("/staff/login/second-facteur")
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert '<svg role="img" aria-label="QR code"' in text
    secret = setup_secret(text)
    assert setup_secret(client.get("/staff/login/second-facteur").get_data(as_text=True)) == secret
    wrong = client.post(
        "/staff/login/second-facteur", data={"csrf_token": csrf(text), "code": "000000"}
    )
    assert wrong.status_code == 400
    assert "Code incorrect : tapez les 6 chiffres" in wrong.get_data(as_text=True)
    good = client.post(
        "/staff/login/second-facteur",
        data={"csrf_token": csrf(text), "code": pyotp.TOTP(secret).at(NOON)},
    )
    assert good.status_code == 200
    assert good.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([A-Z0-9-]{14})</code></li>", good.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == AGENT))
        assert user is not None
        assert user.totp_enabled_at is not None
        assert secret not in (user.totp_secret or "")  # sealed, not stored as typed
        hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
        assert len(hashes) == 10
        assert not hashes & {code.replace("-", "") for code in codes}
        assert "second facteur activé" in set(db.session.scalars(select(AuditEntry.action)))


@pytest.mark.usefixtures("accounts")
def test_later_sign_ins_need_the_code_of_the_moment_once(
    app: Flask, frozen_now: Callable[..., None]
) -> None:
    secret, _ = enrol(app.test_client())
    totp = pyotp.TOTP(secret)
    frozen_now(NOON + timedelta(minutes=10))
    now = NOON + timedelta(minutes=10)
    desk = app.test_client()
    assert password_step(desk) == "/staff/login/code"
    assert desk.get("/staff/").status_code == 302
    status, page = type_code(desk, "123456" if totp.at(now) != "123456" else "654321")
    assert status == 401
    assert "Code incorrect ou déjà utilisé" in page
    status, page = type_code(desk, totp.at(now - timedelta(seconds=90)))  # three steps ago
    assert status == 401
    assert type_code(desk, totp.at(now))[0] == 303
    assert desk.get("/staff/").status_code == 200
    # The same code, seen over a shoulder, opens nothing a second time.
    other = app.test_client()
    password_step(other)
    assert type_code(other, totp.at(now))[0] == 401
    # The phone's clock a step behind the service's: still accepted, once.
    frozen_now(now + timedelta(minutes=1))
    assert type_code(other, totp.at(now + timedelta(seconds=30)))[0] == 303


@pytest.mark.usefixtures("accounts")
def test_a_recovery_code_works_once(app: Flask) -> None:
    _, codes = enrol(app.test_client())
    lost_phone = app.test_client()
    password_step(lost_phone)
    status, _ = type_code(lost_phone, codes[3].lower().replace("-", " "))  # as read aloud
    assert status == 303
    flashed = lost_phone.get("/staff/").get_data(as_text=True)
    assert "Il vous en reste 9" in flashed
    again = app.test_client()
    password_step(again)
    status, page = type_code(again, codes[3])
    assert status == 401
    assert "Code de secours incorrect ou déjà utilisé" in page
    with app.app_context():
        methods = set(db.session.scalars(select(StaffSession.method)))
    assert "password+recovery" in methods


@pytest.mark.usefixtures("accounts")
def test_code_attempts_are_limited_per_account_and_per_address(app: Flask) -> None:
    enrol(app.test_client())
    # Five wrong codes a minute per account, from whatever address…
    for attempt in range(5):
        client = app.test_client()
        password_step(client, address=f"198.51.100.{attempt}")
        assert type_code(client, "000000", address=f"198.51.100.{attempt}")[0] == 401
    client = app.test_client()
    password_step(client, address="198.51.100.77")
    assert type_code(client, "000000", address="198.51.100.77")[0] == 429
    # …and ten a minute per address, whatever the account.
    with app.app_context():
        for n in range(3):
            create_staff(f"agent{n}@gendarmerie.interieur.gouv.fr", PASSWORD, ["UNIT-A"])
    codes = []
    for n in range(3):
        mail = f"agent{n}@gendarmerie.interieur.gouv.fr"
        enrolling = app.test_client()
        assert password_step(enrolling, mail) == "/staff/login/second-facteur"
        for _ in range(4):
            page = enrolling.get("/staff/login/second-facteur").get_data(as_text=True)
            codes.append(
                enrolling.post(
                    "/staff/login/second-facteur",
                    data={"csrf_token": csrf(page), "code": "000000"},
                    environ_base={"REMOTE_ADDR": "203.0.113.5"},
                ).status_code
            )
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]


@pytest.mark.usefixtures("accounts")
def test_an_administrator_resets_a_second_factor_audited_and_the_agent_sets_it_up_again(
    app: Flask,
) -> None:
    secret, _ = enrol(app.test_client())
    agent = app.test_client()
    assert sign_in(agent, AGENT).status_code == 303
    admin = app.test_client()
    assert sign_in(admin, ADMIN).status_code == 303
    page = admin.get("/staff/comptes").get_data(as_text=True)
    assert f"Réinitialiser le second facteur de {AGENT}" in page
    answer = admin.post(
        "/staff/comptes/action",
        data={"csrf_token": csrf(page), "email": AGENT, "action": "second-facteur"},
        follow_redirects=True,
    )
    assert "second facteur réinitialisé" in answer.get_data(as_text=True)
    assert agent.get("/staff/").status_code == 302  # the phone may be in other hands
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "second facteur réinitialisé")
        )
        assert entry is not None
        assert (entry.actor_email, entry.target) == (ADMIN, AGENT)
    again = app.test_client()
    assert password_step(again) == "/staff/login/second-facteur"
    page = again.get("/staff/login/second-facteur").get_data(as_text=True)
    new = setup_secret(page)
    assert new != secret
    # The new app's first code, in the same 30 seconds as the old one's last: accepted.
    answer = again.post(
        "/staff/login/second-facteur",
        data={"csrf_token": csrf(page), "code": pyotp.TOTP(new).at(NOON + timedelta(seconds=30))},
    )
    assert answer.status_code == 200


@pytest.mark.usefixtures("accounts")
def test_only_administrators_see_the_accounts(app: Flask) -> None:
    agent = app.test_client()
    sign_in(agent, AGENT)
    assert agent.get("/staff/comptes").status_code == 404
    page = agent.get("/staff/").get_data(as_text=True)
    answer = agent.post(
        "/staff/comptes/action",
        data={"csrf_token": csrf(page), "email": ADMIN, "action": "desactiver"},
    )
    assert answer.status_code == 404


@pytest.mark.usefixtures("accounts")
def test_the_password_step_expires_after_five_minutes(
    app: Flask, client: FlaskClient, frozen_now: Callable[..., None]
) -> None:
    secret, _ = enrol(app.test_client())
    password_step(client)
    frozen_now(NOON + timedelta(minutes=6))
    status, _ = type_code(client, pyotp.TOTP(secret).at(NOON + timedelta(minutes=6)))
    assert status == 303
    assert client.get("/staff/").status_code == 302  # sent back to the password


@pytest.mark.usefixtures("accounts")
def test_the_cli_resets_and_deactivates_with_an_audit_entry(
    app: Flask, runner: FlaskCliRunner
) -> None:
    enrol(app.test_client())
    result = runner.invoke(args=["staff", "reset-second-factor", "--email", AGENT])
    assert result.exit_code == 0, result.output
    assert "second facteur réinitialisé" in result.output
    result = runner.invoke(args=["staff", "deactivate", "--email", "personne@exemple.fr"])
    assert result.exit_code == 1
    assert "aucun compte pour personne@exemple.fr" in result.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == AGENT))
        assert user is not None
        assert user.totp_enabled_at is None


@pytest.mark.usefixtures("accounts")
def test_proconnect_only_refuses_passwords_and_ends_password_sessions(
    app: Flask, client: FlaskClient
) -> None:
    assert sign_in(client, AGENT).status_code == 303
    page = client.get("/staff/login").get_data(as_text=True)  # the session's CSRF token
    app.config["STAFF_PASSWORD_SIGN_IN"] = False
    assert client.get("/staff/").status_code == 302
    message = client.get("/staff/login").get_data(as_text=True)
    assert "La connexion par mot de passe n&#39;est plus admise" in message
    assert 'type="password"' not in message
    answer = client.post(
        "/staff/login", data={"csrf_token": csrf(page), "email": AGENT, "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert "utilisez ProConnect" in answer.get_data(as_text=True)

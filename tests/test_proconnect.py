"""Signing in with ProConnect (SPEC §15) through a real OpenID Connect provider on loopback
(oidc-provider-mock, tests/support/provider.py): the authorization code flow with PKCE,
state, nonce and the ID token's signature checked, acr and amr read, an identity opening
only the account made for its email, every refusal said in French and audited, sessions
ended at once when the account is deactivated, and the logout at the provider."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking import create_app
from booking.extensions import db
from booking.models import AuditEntry, StaffSession, StaffUser
from booking.services.staff.accounts import create_staff, set_active
from tests.support.provider import ACR, Provider, running_provider
from tests.support.staff import PASSWORD, csrf

AGENT = "agent@gendarmerie.interieur.gouv.fr"
SUB = "proconnect-sub-0001"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def app_overrides(provider: Provider) -> dict[str, Any]:
    provider.published_keys = None
    provider.token_requests.clear()
    return {
        "PROCONNECT_ISSUER": provider.issuer,
        "PROCONNECT_CLIENT_ID": "rdv-gendarmerie",
        "PROCONNECT_CLIENT_SECRET": "un secret de client de test",
    }


@pytest.fixture
def agent_account(app: Flask, create_unit: Any) -> None:
    create_unit(public_id="UNIT-A", name="Brigade A")
    with app.app_context():
        create_staff(AGENT, PASSWORD, ["UNIT-A"])


def start(client: FlaskClient) -> str:
    """ "S'identifier avec ProConnect": the provider's authorization URL."""
    answer = client.get("/staff/proconnect")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def sign_in(client: FlaskClient, provider: Provider, sub: str = SUB, **claims: Any) -> Any:
    """The whole way: to the provider, sign in there as `sub`, back to the service."""
    provider.user(sub, **({"email": AGENT, "acr": ACR, "amr": ["pwd", "mfa"]} | claims))
    return client.get(provider.authorize(start(client), sub))


def audited_refusals(app: Flask) -> list[str]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "connexion ProConnect refusée")
        )
        return [entry.after for entry in entries]


@pytest.mark.usefixtures("agent_account")
def test_an_agent_signs_in_and_the_identity_is_linked_to_the_account(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    page = client.get("/staff/login").get_data(as_text=True)
    assert "S'identifier avec ProConnect" in page
    location = start(client)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://rdv.test/staff/proconnect/retour"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["acr_values"] == [ACR]
    assert query["state"][0]
    assert query["nonce"][0]
    provider.user(SUB, email="Agent@Gendarmerie.Interieur.Gouv.fr", acr=ACR, amr=["pwd", "mfa"])
    answer = client.get(provider.authorize(location, SUB))
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/staff/"
    assert "Mes unités" in client.get("/staff/").get_data(as_text=True)
    # PKCE: the verifier sent to the token endpoint is the one the challenge was made from.
    verifier = provider.token_requests[-1]["code_verifier"][0]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == AGENT))
        assert user is not None
        assert user.proconnect_sub == SUB
        row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == user.id))
        assert row is not None
        assert (row.method, row.acr, row.amr) == ("proconnect", ACR, "pwd mfa")
        assert row.id_token.count(".") == 2
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert "identité ProConnect liée" in actions
    account = client.get("/staff/compte").get_data(as_text=True)
    assert "ProConnect (eidas1, pwd mfa)" in account


@pytest.mark.usefixtures("agent_account")
def test_a_wrong_state_is_refused_and_audited(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    provider.user(SUB, email=AGENT, acr=ACR)
    back = provider.authorize(start(client), SUB)
    tampered = back.replace("state=", "state=x")
    answer = client.get(tampered)
    assert answer.status_code == 403
    assert "n&#39;a pas été faite depuis ce navigateur (state)" in answer.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302  # not signed in
    # Another browser bringing back a good code and state is refused the same way.
    stranger = app.test_client()
    assert stranger.get(back).status_code == 403
    assert len(audited_refusals(app)) == 2


@pytest.mark.usefixtures("agent_account")
def test_a_replayed_nonce_is_refused(app: Flask, client: FlaskClient, provider: Provider) -> None:
    """An ID token carrying the nonce of an earlier sign-in, brought back with the state of
    a newer one, is refused: the nonce must be the one this sign-in sent."""
    provider.user(SUB, email=AGENT, acr=ACR)
    first = start(client)
    assert client.get(provider.authorize(first, SUB)).status_code == 303
    newer = parse_qs(urlsplit(start(client)).query)
    old = urlsplit(first)
    replay = old._replace(
        query=old.query.replace(parse_qs(old.query)["state"][0], newer["state"][0])
    ).geturl()
    answer = client.get(provider.authorize(replay, SUB))
    assert answer.status_code == 403
    assert "n&#39;a pas pu être vérifiée" in answer.get_data(as_text=True)
    assert any("vérifiée" in entry for entry in audited_refusals(app))


@pytest.mark.usefixtures("agent_account")
def test_a_token_signed_by_another_key_is_refused(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    provider.forge_keys()
    answer = sign_in(client, provider)
    assert answer.status_code == 403
    assert "n&#39;a pas pu être vérifiée" in answer.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    assert audited_refusals(app)


@pytest.mark.usefixtures("agent_account")
def test_the_provider_s_new_keys_are_fetched_when_it_rotates_them(
    app: Flask, provider: Provider
) -> None:
    assert sign_in(app.test_client(), provider).status_code == 303  # the keys are now known
    provider.rotate_key()
    assert sign_in(app.test_client(), provider).status_code == 303


@pytest.mark.usefixtures("agent_account")
def test_an_email_with_no_account_is_refused_with_the_reason(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    answer = sign_in(client, provider, sub="autre", email="inconnu@interieur.gouv.fr")
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "Aucun compte n&#39;existe pour inconnu@interieur.gouv.fr" in page
    assert "Demandez à un administrateur" in page
    assert len(audited_refusals(app)) == 1
    with app.app_context():
        assert (
            db.session.scalar(select(StaffUser).where(StaffUser.proconnect_sub == "autre")) is None
        )


@pytest.mark.usefixtures("agent_account")
def test_a_level_lower_than_asked_or_no_email_is_refused(
    client: FlaskClient, provider: Provider
) -> None:
    answer = sign_in(client, provider, acr="eidas0")
    assert answer.status_code == 403
    assert "niveau d&#39;authentification" in answer.get_data(as_text=True)
    provider.user("sans-email", acr=ACR)
    answer = client.get(provider.authorize(start(client), "sans-email"))
    assert answer.status_code == 403


@pytest.mark.usefixtures("agent_account")
def test_a_deactivated_account_is_refused_and_loses_its_open_sessions_at_once(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    assert sign_in(client, provider).status_code == 303
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        set_active(None, AGENT, active=False)
    assert client.get("/staff/").status_code == 302  # the very next request
    answer = sign_in(app.test_client(), provider)
    assert answer.status_code == 403
    assert "est désactivé" in answer.get_data(as_text=True)


@pytest.mark.usefixtures("agent_account")
def test_an_account_linked_to_another_identity_is_refused(
    client: FlaskClient, provider: Provider
) -> None:
    assert sign_in(client, provider).status_code == 303
    answer = sign_in(client, provider, sub="un-autre-sub")
    assert answer.status_code == 403
    assert "déjà lié à une autre identité ProConnect" in answer.get_data(as_text=True)


@pytest.mark.usefixtures("agent_account")
def test_logout_ends_the_session_at_the_provider_too(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    assert sign_in(client, provider).status_code == 303
    with app.app_context():
        issued = db.session.scalar(select(StaffSession.id_token))
    page = client.get("/staff/").get_data(as_text=True)
    leaving = client.post("/staff/logout", data={"csrf_token": csrf(page)})
    assert leaving.status_code == 302
    location = leaving.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{provider.issuer}/oauth2/end_session?")
    assert query["id_token_hint"] == [issued]
    assert query["post_logout_redirect_uri"] == ["http://rdv.test/staff/deconnecte"]
    assert client.get("/staff/").status_code == 302  # signed out here already
    # At the provider: its end-session page, confirmed, sends the browser back with state.
    assert httpx.get(location).status_code == 200
    confirmed = httpx.post(
        f"{provider.issuer}/oauth2/end_session/confirm",
        data={"redirect_uri": f"{query['post_logout_redirect_uri'][0]}?state={query['state'][0]}"},
    )
    assert confirmed.status_code == 302
    back = urlsplit(confirmed.headers["location"])
    landing = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Vous êtes déconnecté, de ProConnect aussi." in landing.get_data(as_text=True)
    # A return without our state says only what is sure.
    other = client.get("/staff/deconnecte?state=pas-le-notre", follow_redirects=True)
    assert "Vous êtes déconnecté." in other.get_data(as_text=True)


def test_an_allowed_domain_gets_an_account_with_no_unit(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    app.config["PROCONNECT_DOMAINS"] = ["gendarmerie.interieur.gouv.fr"]
    answer = sign_in(
        client, provider, sub="nouveau", email="nouvel.agent@gendarmerie.interieur.gouv.fr"
    )
    assert answer.status_code == 303
    page = client.get("/staff/").get_data(as_text=True)
    assert "rattaché à aucune unité" in page
    assert client.get("/staff/units/UNIT-A/agenda").status_code in {403, 404}
    refused = sign_in(app.test_client(), provider, sub="x", email="quelqu.un@exemple.fr")
    assert refused.status_code == 403


def bare_app(tmp_path: Path, **settings: Any) -> Flask:
    """An application of its own (no table needed by the pages tried)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x" * 64,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            **settings,
        }
    )


def test_an_unreachable_provider_is_said_not_a_500(
    app_overrides: dict[str, Any], tmp_path: Path
) -> None:
    app = bare_app(tmp_path, **{**app_overrides, "PROCONNECT_ISSUER": "http://localhost:9"})
    with app.app_context():
        db.create_all()  # the refusal is audited
    answer = app.test_client().get("/staff/proconnect")
    assert answer.status_code == 403
    assert "ProConnect ne répond pas" in answer.get_data(as_text=True)


def test_without_settings_there_is_no_proconnect(tmp_path: Path) -> None:
    client = bare_app(tmp_path).test_client()
    assert "ProConnect" not in client.get("/staff/login").get_data(as_text=True)
    assert client.get("/staff/proconnect").status_code == 404
    assert client.get("/staff/proconnect/retour?code=x&state=y").status_code == 404


def test_proconnect_settings_are_all_three_or_none(tmp_path: Path) -> None:
    from booking.config import ConfigurationError, load_config

    base = {"APP_ENV": "development"}
    with pytest.raises(ConfigurationError, match="il manque PROCONNECT_CLIENT_SECRET"):
        load_config(
            str(tmp_path),
            {**base, "PROCONNECT_ISSUER": "https://x", "PROCONNECT_CLIENT_ID": "c"},
        )
    with pytest.raises(ConfigurationError, match="personne ne pourrait se connecter"):
        load_config(str(tmp_path), {**base, "STAFF_PASSWORD_SIGN_IN": "false"})

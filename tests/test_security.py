"""Security headers, secrets, trusted proxies and rate limits."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.config import ConfigurationError, load_config
from booking.keys import PURPOSES, derive
from booking.models import Unit
from tests.support.keys import SECRET_KEY

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    page = response.get_data(as_text=True)
    assert "<script>" not in page
    assert "style=" not in page


def test_answers_that_use_no_session_do_not_vary_on_cookies(
    client: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    """Shared caches keep one copy of a public answer, whatever cookies its askers carry."""
    unit = create_unit()
    for path in (
        "/healthz",
        f"/api/v1/units/{unit.public_id}",
        f"/api/v1/units/{unit.public_id}/slots?motif=signalement",
        "/opendata/units.csv",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Cookie" not in response.headers.get("Vary", ""), path
        assert "Set-Cookie" not in response.headers, path
    form = client.get("/staff/login")  # its CSRF token lives in the session
    assert "Cookie" in form.headers["Vary"]
    assert "Set-Cookie" in form.headers


def test_a_form_sent_without_its_token_is_refused_and_a_read_needs_none(
    client: FlaskClient,
) -> None:
    assert client.post("/staff/login", data={"email": "a@b.fr", "password": "x"}).status_code == 400
    assert client.get("/staff/login").status_code == 200


def test_plain_functions_run_as_they_are_and_coroutines_go_to_flask(app: Flask) -> None:
    """Hooks and views that are plain functions or methods are used as they are; an
    `async def` is left to Flask (which wraps it, or says that its async extra is missing)."""

    class Hooks:
        def method(self) -> str:
            return "ok"

    def plain() -> str:
        return "ok"

    async def coroutine() -> str:
        return "ok"

    bound = Hooks().method
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(bound) is bound
    if importlib.util.find_spec("asgiref") is None:  # Flask without its async extra
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(coroutine)
    else:
        wrapped = app.ensure_sync(coroutine)
        assert wrapped is not coroutine
        assert wrapped() == "ok"


class TestOverHttps:
    """Behind HTTPS: HSTS and secure cookies."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        """The public address is HTTPS."""
        return {"BASE_URL": "https://rdv.example.gouv.fr", "SESSION_COOKIE_SECURE": True}

    def test_hsts(self, client: FlaskClient) -> None:
        assert "max-age=" in client.get("/").headers["Strict-Transport-Security"]


@pytest.mark.parametrize(
    "weak",
    [
        "a",  # what a security review saw start
        "test-secret",
        "x" * 64,  # long, one character
        "0123456789abcdef" * 2,  # 32 hexadecimal characters: 16 bytes
        "correct horse battery staple",  # words
        "abcdefghijklmnopqrstuvwxyzABCDEF",  # 32 letters: not 32 bytes of randomness
    ],
)
def test_a_weak_secret_key_refuses_to_start_in_production(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY est trop faible"):
        load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": weak})


@pytest.mark.parametrize(
    "strong",
    [SECRET_KEY, "QxJ3vXb9mK2pL7sW0eR5tY8uI1oP4aS6dF9gH2jK3lZ", "q" + SECRET_KEY.upper()],
)
def test_a_random_secret_key_starts(tmp_path: Path, strong: str) -> None:
    config = load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": strong})
    assert config["SECRET_KEY"] == strong


def test_each_purpose_has_its_own_key() -> None:
    keys = {purpose: derive(SECRET_KEY, purpose) for purpose in PURPOSES}
    assert len(set(keys.values())) == len(PURPOSES)
    assert all(len(key) == 32 for key in keys.values())
    assert SECRET_KEY.encode() not in keys.values()
    assert derive(SECRET_KEY, "links") != derive(SECRET_KEY[:-1] + "8", "links")


def test_an_smtp_password_is_never_sent_in_clear_outside_development(tmp_path: Path) -> None:
    production = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "SMTP_HOST": "smtp.test"}
    with pytest.raises(ConfigurationError, match="SMTP_USER est donné sans TLS"):
        load_config(str(tmp_path), {**production, "SMTP_USER": "rdv", "SMTP_PASSWORD": "x"})
    for tls in ({"SMTP_STARTTLS": "true"}, {"SMTP_SSL": "true", "SMTP_PORT": "465"}):
        config = load_config(str(tmp_path), {**production, "SMTP_USER": "rdv", **tls})
        assert config["SMTP_STARTTLS"] or config["SMTP_SSL"]
    assert load_config(str(tmp_path), production)["SMTP_USER"] == ""  # a relay without login


def test_secret_key_is_required_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY est obligatoire"):
        load_config(str(tmp_path), {"APP_ENV": "production"})
    development = load_config(str(tmp_path), {"APP_ENV": "development"})
    assert development["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


class TestRateLimits:
    """Low limits, to see them act."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        """Three searches a minute; two bookings an hour per email."""
        return {"RATE_LIMIT_SEARCH": "3 per minute", "RATE_LIMIT_BOOKING_EMAIL": "2 per hour"}

    def test_search_is_limited_with_a_french_429(self, client: FlaskClient) -> None:
        statuses = [client.get("/api/v1/units?q=x").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/api/v1/units?q=x")
        assert refused.json["error"] == "too_many_requests"
        assert "patientez" in refused.json["message"]
        assert int(refused.headers["Retry-After"]) > 0
        assert client.get("/?q=ornex").status_code == 429  # the page shares the search limit

    def test_bookings_are_limited_per_email(
        self,
        client: FlaskClient,
        create_unit: Callable[..., Unit],
        frozen_now: Callable[[datetime], None],
    ) -> None:
        frozen_now(MONDAY_7AM)
        create_unit(public_id="ORNEX")
        body = {
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": "2026-12-01T10:00:00+01:00",
            "name": "Bot",
            "email": "bot@example.org",
        }
        statuses = [client.post("/api/v1/bookings", json=body).status_code for _ in range(3)]
        assert statuses[2] == 429
        other = client.post("/api/v1/bookings", json={**body, "email": "person@example.org"})
        assert other.status_code != 429


class TestBehindAProxy:
    """One trusted proxy: its X-Forwarded-For names the client."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        """One proxy in front; two searches a minute."""
        return {"TRUSTED_PROXIES": 1, "RATE_LIMIT_SEARCH": "2 per minute"}

    def test_clients_are_told_apart_by_the_proxys_header(self, client: FlaskClient) -> None:
        def search(address: str) -> int:
            return client.get("/api/v1/units", headers={"X-Forwarded-For": address}).status_code

        assert [search("203.0.113.1") for _ in range(3)] == [200, 200, 429]
        assert search("203.0.113.2") == 200  # another citizen is not punished


def test_without_a_trusted_proxy_the_header_is_ignored(app: Flask) -> None:
    app.config["RATE_LIMIT_SEARCH"] = "2 per minute"
    client = app.test_client()
    statuses = [
        client.get("/api/v1/units", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]  # forged addresses do not escape the limit


def test_booking_secrets_never_reach_the_logs(
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX")
    caplog.set_level(logging.DEBUG)
    created = client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": "2026-12-01T10:00:00+01:00",
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    ).json
    token = created["cancel_url"].split("token=")[1]
    client.get(f"/rendez-vous/{created['reference']}?token={token}")
    assert token not in caplog.text
    assert "camille@example.org" not in caplog.text

"""Signing a test client in to the staff workspace, second factor included."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking import clock
from booking.extensions import db
from booking.models import StaffUser
from booking.services.staff import second_factor

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "correct horse battery staple"


def csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def setup_secret(page: str) -> str:
    """The TOTP key the set-up page shows (for typing into an app without a camera)."""
    match = re.search(r'<code class="api-key" id="secret">([A-Z2-7 ]+)</code>', page)
    assert match, "no TOTP key on the page"
    return match.group(1).replace(" ", "")


def code_for(secret: str, after_step: int = 0) -> str:
    """A code of the first step the service still accepts (one either side of its clock,
    later than the last one used): several sign-ins under a frozen clock use the next."""
    now = int(clock.now().timestamp()) // second_factor.STEP_SECONDS
    step = max(now - 1, after_step + 1)
    assert step <= now + 1, "three sign-ins of one account in one 30-second step"
    return pyotp.TOTP(secret).generate_otp(step)


def account_secret(client: FlaskClient, mail: str) -> tuple[str, int]:
    """The account's TOTP secret as the service keeps it, and its last step used."""
    with client.application.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == mail.lower()))
        assert user is not None
        secret = second_factor._secret_of(user)
        assert secret is not None
        return secret, user.totp_last_step


def second_step(client: FlaskClient, mail: str, first: TestResponse) -> TestResponse:
    """After a good password: type the code (setting the app up at a first sign-in)."""
    location = first.headers.get("Location", "")
    if location.endswith("/staff/login/second-facteur"):
        page = client.get(location).get_data(as_text=True)
        code = code_for(setup_secret(html.unescape(page)))
        return client.post(location, data={"csrf_token": csrf(page), "code": code})
    assert location.endswith("/staff/login/code"), location
    page = client.get(location).get_data(as_text=True)
    secret, last = account_secret(client, mail)
    return client.post(location, data={"csrf_token": csrf(page), "code": code_for(secret, last)})


def sign_in(client: FlaskClient, mail: str, password: str = PASSWORD) -> TestResponse:
    """Sign in through the login form and the second factor; the last answer (303 to the
    units when signed in, or the refusal)."""
    page = client.get("/staff/login").get_data(as_text=True)
    first = client.post(
        "/staff/login", data={"csrf_token": csrf(page), "email": mail, "password": password}
    )
    if first.status_code != 303:
        return first
    done = second_step(client, mail, first)
    if done.status_code == 200:
        # A first sign-in ends on the recovery codes, shown once: signed in, as the 303 to
        # the units of every later sign-in says.
        assert "Vos codes de secours" in done.get_data(as_text=True)
        done.status_code = 303
    return done


def browser_sign_in(page: Page, app: Flask, mail: str, password: str = PASSWORD) -> None:
    """Sign in through the pages as an agent does: email and password, then the code of the
    app (set up at the first sign-in from the key shown, the recovery codes noted)."""
    page.goto("/staff/login")
    page.get_by_label("Adresse électronique").fill(mail)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    setting_up = page.get_by_role("heading", name="Mettre en place le second facteur")
    asking = page.get_by_role("heading", name="Code de vérification")
    setting_up.or_(asking).wait_for()
    if setting_up.is_visible():
        secret = page.locator("#secret").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres").fill(code_for(secret))
        page.get_by_role("button", name="Activer et me connecter").click()
        page.get_by_role("link", name="J'ai noté mes codes : continuer").click()
    else:
        secret, last = account_secret(app.test_client(), mail)
        page.get_by_label("Code à 6 chiffres").fill(code_for(secret, last))
        page.get_by_role("button", name="Valider").click()

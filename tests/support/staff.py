"""Signing a test client in to the staff workspace."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery staple"


def csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def sign_in(client: FlaskClient, mail: str, password: str = PASSWORD) -> TestResponse:
    """Sign in through the login form."""
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post(
        "/staff/login", data={"csrf_token": csrf(page), "email": mail, "password": password}
    )

"""Both sign-ins of the staff workspace in a real browser, on a phone and on a desktop: a
password with its second factor (set up from the page's key, then a code), and ProConnect
through a real OpenID Connect provider on loopback, logout at the provider included; axe
finds nothing on the service's pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, Route, expect

from booking.models import Unit
from booking.services.staff.accounts import create_staff
from tests.e2e.conftest import audit, screenshot
from tests.support.provider import ACR, Provider, running_provider
from tests.support.server import Server
from tests.support.staff import PASSWORD, account_secret, code_for

AGENT = "agent@gendarmerie.interieur.gouv.fr"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def live(
    app: Flask, ornex: Unit, database_uri: str, tmp_path: Path, provider: Provider
) -> Iterator[Server]:
    """The app served by gunicorn, ProConnect on, with one agent of the unit."""
    with app.app_context():
        create_staff(AGENT, PASSWORD, [ornex.public_id])
    settings = {
        "PROCONNECT_ISSUER": provider.issuer,
        "PROCONNECT_CLIENT_ID": "rdv-gendarmerie",
        "PROCONNECT_CLIENT_SECRET": "un secret de client de test",
    }
    server = Server(database_uri, tmp_path / "instance", workers=2, extra_env=settings)
    yield server
    server.stop()


def without_cdn(page: Page) -> Page:
    """The provider's own pages ask a CDN for a style sheet; there is no network here."""

    def empty(route: Route) -> None:
        route.fulfill(body="", content_type="text/css")

    page.context.route("https://cdn.jsdelivr.net/**", empty)
    return page


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_a_password_and_its_second_factor(
    new_page: Callable[..., Page], app: Flask, device: str
) -> None:
    page = new_page(**(DESKTOP if device == "desktop" else {}))
    page.goto("/staff/login")
    assert audit(page) == []
    page.get_by_label("Adresse électronique").fill(AGENT)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mettre en place le second facteur")).to_be_visible()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    assert audit(page) == []
    screenshot(page, f"staff-second-factor-{device}")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Activer et me connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer et me connecter").click()
    expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert audit(page) == []
    page.get_by_role("link", name="J'ai noté mes codes : continuer").click()
    expect(page.get_by_role("heading", name="Mes unités")).to_be_visible()
    # Another device: the code of the app this time.
    other = new_page(**(DESKTOP if device == "phone" else {}))
    other.goto("/staff/login")
    other.get_by_label("Adresse électronique").fill(AGENT)
    other.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    other.get_by_role("button", name="Se connecter").click()
    expect(other.get_by_role("heading", name="Code de vérification")).to_be_visible()
    assert audit(other) == []
    secret_kept, last = account_secret(app.test_client(), AGENT)
    assert secret_kept == secret
    other.get_by_label("Code à 6 chiffres").fill(code_for(secret, last))
    other.get_by_role("button", name="Valider").click()
    expect(other.get_by_role("heading", name="Mes unités")).to_be_visible()
    other.get_by_role("link", name="Mon compte").click()
    expect(other.get_by_text("(cette session)")).to_be_visible()
    closing = other.get_by_role("button", name=re.compile("^Fermer cette session, ouverte"))
    expect(closing).to_have_count(1)  # the first device's
    assert audit(other) == []
    screenshot(other, f"staff-account-{device}")
    closing.click()
    expect(other.get_by_role("status")).to_contain_text("La session est fermée")
    page.reload()
    expect(page.get_by_role("heading", name="Espace des agents")).to_be_visible()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_proconnect_sign_in_and_logout_at_the_provider(
    new_page: Callable[..., Page], provider: Provider, device: str
) -> None:
    provider.user("sub-agent", email=AGENT, acr=ACR, amr=["pwd", "mfa"])
    page = without_cdn(new_page(**(DESKTOP if device == "desktop" else {})))
    page.goto("/staff/login")
    expect(page.get_by_role("link", name="S'identifier avec ProConnect")).to_be_visible()
    assert audit(page) == []
    screenshot(page, f"staff-login-{device}")
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.get_by_placeholder("sub").fill("sub-agent")  # the provider's own form
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Mes unités")).to_be_visible()
    assert audit(page) == []
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_text("ProConnect (eidas1, pwd mfa)")).to_be_visible()
    page.get_by_role("button", name=f"Se déconnecter ({AGENT})").click()
    page.get_by_role("button", name="End session").click()  # at the provider
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté, de ProConnect aussi.")
    assert audit(page) == []
    # An identity without an account: the reason, in French, on the sign-in page.
    provider.user("inconnu", email="inconnu@interieur.gouv.fr", acr=ACR)
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.get_by_placeholder("sub").fill("inconnu")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Aucun compte n'existe pour inconnu@interieur.gouv.fr"
    )
    assert audit(page) == []

"""Who runs the site, from settings: the header, the legal notice, the accessibility
statement, the API documentation; a production start with example settings says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.config import load_config, startup_warnings
from booking.paths import ROOT
from tests.support.keys import PRE_DECLARATION_KEY, SECRET_KEY

SETTINGS = {
    "SITE_ADMINISTRATION": "Préfecture|de l'Ain",
    "SITE_PUBLISHER": "Préfecture de l'Ain, 45 avenue Alsace-Lorraine, 01000 Bourg-en-Bresse",
    "SITE_PUBLICATION_DIRECTOR": "La préfète de l'Ain",
    "SITE_HOST": "Ministère de l'Intérieur, place Beauvau, 75008 Paris",
    "SITE_CONTACT": "accessibilite@ain.gouv.fr",
}
PAGES = ["/", "/mentions-legales", "/accessibilite", "/donnees-personnelles", "/api", "/nulle"]


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return SETTINGS


@pytest.mark.parametrize("path", PAGES)
def test_every_page_says_who_runs_it_and_links_the_statement(
    client: FlaskClient, path: str
) -> None:
    page = client.get(path).get_data(as_text=True)
    assert page.count('<p class="fr-logo">Préfecture<br>de l&#39;Ain</p>') == 2  # header, footer
    assert 'href="/accessibilite">Accessibilité : partiellement conforme</a>' in page
    assert 'href="/mentions-legales">Mentions légales</a>' in page
    assert 'href="/api">API</a>' in page  # the documentation, not raw JSON
    assert "République<br>Française" not in page


def test_the_legal_notice_names_publisher_director_host_and_contact(client: FlaskClient) -> None:
    page = client.get("/mentions-legales").get_data(as_text=True).replace("&#39;", "'")
    for name in ("SITE_PUBLISHER", "SITE_PUBLICATION_DIRECTOR", "SITE_HOST"):
        assert SETTINGS[name] in page
    assert 'href="mailto:accessibilite@ain.gouv.fr"' in page
    assert "à renseigner" not in page
    # The data sources whose licences ask to be named (data/README.md).
    assert 'contient des données de <a href="https://www.geonames.org/">GeoNames</a>' in page
    assert "licence ODbL 1.0" in page
    privacy = client.get("/donnees-personnelles").get_data(as_text=True).replace("&#39;", "'")
    assert SETTINGS["SITE_PUBLISHER"] in privacy  # the controller of the personal data


def test_the_accessibility_statement_says_what_was_tested(client: FlaskClient) -> None:
    page = client.get("/accessibilite").get_data(as_text=True).replace("&#39;", "'")
    assert "<strong>partiellement conforme</strong>" in page
    assert "pas encore fait l'objet d'un audit" in page
    assert "axe-core" in page
    assert "clavier seul" in page
    assert "Ne sont pas encore vérifiés" in page
    assert "Défenseur des droits" in page
    assert 'href="mailto:accessibilite@ain.gouv.fr"' in page
    assert SETTINGS["SITE_PUBLISHER"] in page


def test_the_api_page_documents_every_operation(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    page = client.get("/api").get_data(as_text=True)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert f"{method.upper()} {path}" in page
            assert operation["summary"].replace("'", "&#39;") in page
    assert "<code>Idempotency-Key</code>" in page
    assert 'href="/api/v1/openapi.json"' in page
    assert "<code>01281-01</code>" in page  # back-quoted parts of descriptions shown as code


@pytest.mark.parametrize("setting", ["SITE_PUBLISHER", "SITE_CONTACT"])
def test_an_unset_setting_shows_as_to_be_given(
    app: Flask, client: FlaskClient, setting: str
) -> None:
    app.config[setting] = ""
    page = client.get("/mentions-legales").get_data(as_text=True)
    assert f"à renseigner : {setting}" in page


def test_example_settings_are_warned_about_in_production_only(tmp_path: Path) -> None:
    production = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY}
    warnings = startup_warnings(load_config(str(tmp_path), production))
    assert [w.split(" ")[0] for w in warnings] == [
        "SMTP_HOST",
        "MAIL_FROM",
        "SITE_PUBLISHER",
        "SITE_CONTACT",
    ]
    assert "AUCUN COURRIEL NE PART" in warnings[0]
    given = {
        **production,
        "SMTP_HOST": "smtp.ain.gouv.fr",
        "MAIL_FROM": "Rendez-vous <rdv@ain.gouv.fr>",
        "SITE_PUBLISHER": "Préfecture de l'Ain",
        "SITE_CONTACT": "rdv@ain.gouv.fr",
    }
    assert startup_warnings(load_config(str(tmp_path), given)) == []
    development = {"APP_ENV": "development"}
    assert startup_warnings(load_config(str(tmp_path), development)) == []


def test_a_production_start_with_the_example_sender_logs_a_warning(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "PRE_DECLARATION_KEYS": PRE_DECLARATION_KEY,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SITE_PUBLISHER": "Préfecture de l'Ain",
        "SITE_CONTACT": "rdv@ain.gouv.fr",
    }
    env.pop("MAIL_FROM", None)
    started = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in started.stderr.splitlines() if "MAIL_FROM" in line]
    assert len(lines) == 1, started.stderr
    assert re.search(r'"level": "WARNING"|WARNING', lines[0])
    assert "adresse d'exemple" in lines[0]

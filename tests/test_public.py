"""Public pages: search, a unit's page, errors in French, health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.models import Unit
from booking.services.health import heartbeat


@pytest.fixture
def ornex(create_unit: Callable[..., Unit]) -> Unit:
    """A unit open on weekdays and Sunday mornings."""
    return create_unit(
        public_id="1008620",
        name="Gendarmerie - Brigade d'Ornex",
        hours={0: [(480, 720), (840, 1080)], 6: [(540, 720)]},
    )


def test_home_warns_about_emergencies_and_offers_a_search(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert "17" in page
    assert "112" in page
    assert "114" in page
    assert 'for="q"' in page


@pytest.mark.usefixtures("ornex")
@pytest.mark.parametrize("query", ["ornex", "ORNEX", "01210", "012", "brigade d ornex"])
def test_search_finds_the_unit(client: FlaskClient, query: str) -> None:
    page = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert "1 unité trouvée" in page
    assert 'href="/unites/1008620"' in page


@pytest.mark.usefixtures("ornex")
def test_search_without_result_says_so(client: FlaskClient) -> None:
    page = client.get("/?q=Marseille").get_data(as_text=True)
    assert "Aucune unité trouvée" in page


def test_unit_page_shows_address_phone_map_and_hours_in_french(
    client: FlaskClient, ornex: Unit
) -> None:
    page = client.get("/unites/1008620").get_data(as_text=True)
    assert "Gendarmerie - Brigade d&#39;Ornex" in page
    assert "124 Rue de Béjoud" in page
    assert 'href="tel:+33450405930"' in page
    assert "openstreetmap.org/?mlat=46.27591&amp;mlon=6.09523" in page
    assert '<th scope="row">Lundi</th><td>8 h – 12 h, 14 h – 18 h</td>' in page
    assert '<th scope="row">Mardi</th><td>fermé</td>' in page
    assert '<th scope="row">Dimanche</th><td>9 h – 12 h</td>' in page


def test_unknown_unit_is_a_french_404_page(client: FlaskClient) -> None:
    response = client.get("/unites/inconnue")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_about_this_node_and_reports_the_job_runner(
    app: Flask, client: FlaskClient, frozen_now: Callable[[datetime], None]
) -> None:
    """A silent runner is reported (and alerted on, by the metric) but leaves the node ready:
    otherwise every node would leave the load balancer for one runner elsewhere."""
    frozen_now(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "jobs": "jamais vu"}
    with app.app_context():
        heartbeat("test:1")
    assert client.get("/readyz").json["jobs"] == "ok"
    frozen_now(datetime(2026, 11, 23, 6, 5, tzinfo=UTC))
    late = client.get("/readyz")
    assert late.status_code == 200
    assert late.json["jobs"].startswith("silencieux")

"""The citizen's journey in HTML (server side): reason, slot, details, confirmation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from booking.extensions import db
from booking.models import Booking, Closure, Unit

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A one-desk unit in Ornex; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


def details_url(start: str = TUESDAY_10) -> str:
    """The details form of a slot."""
    return f"/unites/ORNEX/rendez-vous?motif=otv&debut={start.replace('+', '%2B')}"


def post_details(client: FlaskClient, start: str = TUESDAY_10, **fields: str) -> TestResponse:
    """Open the form, then send it with these fields."""
    page = client.get(details_url(start)).get_data(as_text=True)
    data = {
        "csrf_token": csrf(page),
        "debut": start,
        "name": "Camille Martin",
        "email": "camille@example.org",
        "phone": "",
        "comment": "",
        **fields,
    }
    return client.post("/unites/ORNEX/rendez-vous?motif=otv", data=data)


def bookings(app: Flask) -> int:
    """How many bookings exist."""
    with app.app_context():
        return db.session.scalar(select(func.count(Booking.id))) or 0


@pytest.mark.usefixtures("unit")
def test_unit_page_offers_each_reason_with_documents(client: FlaskClient) -> None:
    page = client.get("/unites/ORNEX").get_data(as_text=True)
    assert 'href="/unites/ORNEX/creneaux?motif=otv"' in page
    assert "justificatif de domicile" in page


@pytest.mark.usefixtures("unit")
def test_slots_page_groups_buttons_by_day_a_week_at_a_time(client: FlaskClient) -> None:
    page = client.get("/unites/ORNEX/creneaux?motif=otv").get_data(as_text=True)
    assert "Lundi 23 novembre 2026" in page
    assert 'name="debut" value="2026-11-23T09:00:00+01:00"' in page  # after 2 h of notice
    assert 'aria-label="lundi 23 novembre 2026 à 9 h 00"' in page
    assert "Samedi" not in page  # closed on weekends
    assert "Lundi 30 novembre" not in page  # next week
    following = client.get("/unites/ORNEX/creneaux?motif=otv&semaine=1").get_data(as_text=True)
    assert "Lundi 30 novembre 2026" in following


def test_a_full_day_says_so_instead_of_vanishing(
    client: FlaskClient, unit: Unit, create_booking: Callable[..., Booking]
) -> None:
    """Tuesday taken from opening to closing: the week lists it, marked « complet »."""
    tuesday = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    for start, minutes in ((tuesday, 240), (tuesday + timedelta(hours=6), 240)):
        create_booking(unit, start, minutes=minutes)
    page = client.get("/unites/ORNEX/creneaux?motif=otv").get_data(as_text=True)
    day = page[page.index("Mardi 24 novembre 2026") :][:400]
    assert "complet" in day
    assert "Plus aucun créneau libre ce jour-là" in day
    assert 'value="2026-11-24T' not in page
    assert "Mercredi 25 novembre 2026" in page
    assert "Samedi" not in page  # closed days still leave no trace


@pytest.mark.usefixtures("unit")
def test_a_unit_page_with_a_reason_shows_its_first_slots_before_the_unit_s_details(
    client: FlaskClient,
) -> None:
    page = client.get("/unites/ORNEX?motif=otv").get_data(as_text=True)
    first = page.index('name="debut" value="2026-11-23T09:00:00+01:00"')
    assert first < page.index("<summary")  # the address and hours come after, folded
    assert page.index("<summary") < page.index("Horaires d'accueil")
    assert "Lundi 23 novembre 2026" in page
    assert "Mardi 24 novembre 2026" in page
    assert "Mercredi 25 novembre 2026" not in page  # two days, then « every slot »
    assert 'href="/unites/ORNEX/creneaux?motif=otv">Voir tous les créneaux libres' in page


@pytest.mark.usefixtures("unit")
def test_booking_through_the_form_ends_on_the_confirmation(app: Flask, client: FlaskClient) -> None:
    response = post_details(client, phone="06 12 34 56 78")
    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"
    page = confirmation.get_data(as_text=True)
    assert "Votre rendez-vous est confirmé" in page
    assert "mardi 24 novembre 2026 à 10 h 00" in page
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        assert booking.reference in page
        assert booking.phone == "+33612345678"


@pytest.mark.usefixtures("unit")
def test_invalid_fields_are_listed_and_tied_to_their_inputs(
    app: Flask, client: FlaskClient
) -> None:
    response = post_details(client, name="A", email="pas-une-adresse", comment="Vélo volé")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#name"' in page
    assert 'href="#email"' in page
    assert 'aria-describedby="email-error"' in page
    assert 'id="email-error"' in page
    assert ">Vélo volé</textarea>" in page  # what was typed is kept
    assert bookings(app) == 0


@pytest.mark.usefixtures("unit")
def test_lost_race_keeps_the_form_and_offers_the_days_other_slots(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get(details_url()).get_data(as_text=True)
    client.post(
        "/api/v1/bookings",
        json={
            "unit_id": "ORNEX",
            "motif": "otv",
            "start": TUESDAY_10,
            "name": "Autre Personne",
            "email": "autre@example.org",
        },
    )
    response = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={
            "csrf_token": csrf(page),
            "debut": TUESDAY_10,
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Quelqu'un vient de prendre ce créneau" in page  # said plainly
    assert "mardi 24 novembre 2026 à 10 h 00 n'est plus libre" in page
    assert "Créneau : à choisir ci-dessous" in page  # the lost time is not shown as booked
    assert 'value="Camille Martin"' in page
    assert 'name="start" value="2026-11-24T10:30:00+01:00">' in page  # offered, not chosen
    assert "checked" not in page
    unchosen = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={
            "csrf_token": csrf(page),
            "debut": TUESDAY_10,
            "autre": "1",
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert unchosen.status_code == 422
    assert "Choisissez l&#39;un des créneaux proposés" in unchosen.get_data(as_text=True)
    again = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={
            "csrf_token": csrf(page),
            "debut": TUESDAY_10,
            "start": "2026-11-24T10:30:00+01:00",
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert again.status_code == 303
    assert bookings(app) == 2


@pytest.mark.usefixtures("unit")
def test_a_mistake_after_picking_another_slot_is_shown_as_a_mistake(
    app: Flask, client: FlaskClient
) -> None:
    """Once another slot is picked, a wrong field is not a lost race: the picked slot is
    the one shown and kept, and the error summary takes the focus."""
    page = client.get(details_url()).get_data(as_text=True)
    response = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={
            "csrf_token": csrf(page),
            "debut": TUESDAY_10,
            "autre": "1",
            "start": "2026-11-24T10:30:00+01:00",
            "name": "Camille Martin",
            "email": "pas-une-adresse",
        },
    )
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert "plus libre" not in shown
    assert "<strong>mardi 24 novembre 2026 à 10 h 30</strong>" in shown
    assert 'name="debut" value="2026-11-24T10:30:00+01:00"' in shown
    assert 'name="autre"' not in shown
    assert 'id="erreurs" tabindex="-1" autofocus' in shown
    fixed = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={
            "csrf_token": csrf(shown),
            "debut": "2026-11-24T10:30:00+01:00",
            "name": "Camille Martin",
            "email": "camille@example.org",
        },
    )
    assert fixed.status_code == 303
    confirmation = client.get(fixed.headers["Location"]).get_data(as_text=True)
    assert "mardi 24 novembre 2026 à 10 h 30" in confirmation
    assert bookings(app) == 1


@pytest.mark.usefixtures("unit")
def test_honeypot_books_nothing(app: Flask, client: FlaskClient) -> None:
    response = post_details(client, website="http://spam.example")
    assert response.status_code == 303
    assert bookings(app) == 0


@pytest.mark.usefixtures("unit")
def test_expired_form_keeps_what_was_typed(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/unites/ORNEX/rendez-vous?motif=otv",
        data={"debut": TUESDAY_10, "name": "Camille Martin", "email": "camille@example.org"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "expiré" in page
    assert 'value="Camille Martin"' in page
    assert bookings(app) == 0


def test_unit_without_slots_offers_the_nearest_that_have_some(
    client: FlaskClient,
    unit: Unit,
    create_unit: Callable[..., Unit],
    create_closure: Callable[..., Closure],
) -> None:
    create_closure(unit, MONDAY_7AM, MONDAY_7AM + timedelta(days=60))
    create_unit(
        public_id="GEX",
        name="Gendarmerie - Brigade de Gex",
        commune="Gex",
        latitude=46.333,
        longitude=6.058,
    )
    create_unit(
        public_id="LOIN",
        name="Gendarmerie - Brigade de Nice",
        commune="Nice",
        latitude=43.70,
        longitude=7.27,
    )
    page = client.get("/unites/ORNEX/creneaux?motif=otv").get_data(as_text=True)
    assert "Aucun créneau libre cette semaine" in page
    assert page.index("Brigade de Gex") < page.index("Brigade de Nice")  # nearest first
    assert 'href="/unites/GEX/creneaux?motif=otv"' in page


@pytest.mark.usefixtures("unit")
def test_search_results_show_distance_and_next_slot(client: FlaskClient) -> None:
    page = client.get("/?near=46.2,6.1&motif=otv").get_data(as_text=True)
    assert "Les unités les plus proches de votre position" in page
    assert "à 8,4 km" in page
    assert (
        "Premier créneau libre (30 min) : <strong>lundi 23 novembre 2026 à 9 h 00</strong>" in page
    )


@pytest.mark.parametrize(
    "path",
    [
        "/unites/NOPE/creneaux?motif=otv",
        "/unites/ORNEX/creneaux?motif=nope",
        "/unites/ORNEX/rendez-vous?motif=otv&debut=demain",
        "/rendez-vous/ZZZZ/confirme?token=x",
    ],
)
@pytest.mark.usefixtures("unit")
def test_bad_links_are_french_404s(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


@pytest.mark.usefixtures("unit")
def test_a_forged_slot_choice_in_the_form_is_a_422(client: FlaskClient) -> None:
    url = "/unites/ORNEX/rendez-vous?motif=otv&debut=2026-11-25T10:00:00%2B01:00"
    response = client.post(
        url,
        data={
            "debut": "2026-11-25T10:00:00+01:00",
            "start": "garbage",
            "name": "Camille",
            "email": "c@example.org",
        },
    )
    assert response.status_code == 422

"""A service's refusal said in the request's language (SPEC §13): the API's `message` and
each of its `fields` in English when the client asks for English, in French otherwise, the
`code` the same in both; a form shown again says its mistakes in the page's language; the
command line and the job runner, outside any request, keep the French.

Needs the compiled English catalogue (booking/translations/en/LC_MESSAGES/messages.mo,
built by `make translations`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from booking.errors import Invalid
from booking.models import Unit
from booking.services.bookings.contact import validate_contact
from booking.services.slots.offered import mode_refused
from booking.web.languages import say

pytestmark = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"
EN = {"Accept-Language": "en-GB,en;q=0.9"}
FR = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk in Ornex; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def booking(**changes: Any) -> dict[str, Any]:
    """A valid booking request, changed by keyword."""
    return {
        "unit_id": "ORNEX",
        "motif": "signalement",
        "start": TUESDAY_10,
        "name": "Camille Martin",
        "email": "camille@example.org",
        "phone": "",
        "comment": "",
        **changes,
    }


@pytest.mark.usefixtures("unit")
def test_a_refused_booking_says_its_message_and_fields_in_english(client: FlaskClient) -> None:
    asked = booking(name="x", phone="12 34")
    english = client.post("/api/v1/bookings", json=asked, headers=EN)
    french = client.post("/api/v1/bookings", json=asked)
    assert english.status_code == french.status_code == 422
    assert english.json["error"] == french.json["error"] == "invalid"
    assert english.json["message"] == "Some fields need correcting."
    assert french.json["message"] == "Certains champs sont à corriger."
    assert set(english.json["fields"]) == set(french.json["fields"]) == {"name", "phone"}
    assert english.json["fields"]["name"] == "Enter your name (2 to 100 characters)."
    assert french.json["fields"]["name"] == "Indiquez votre nom (2 à 100 caractères)."
    assert english.json["fields"]["phone"] == (
        "Invalid French phone number (example: 06 12 34 56 78)."
    )
    assert "Accept-Language" in english.vary


@pytest.mark.usefixtures("unit")
def test_a_message_with_values_keeps_them_in_english(client: FlaskClient) -> None:
    # pydantic's own refusal, its limit carried into the English sentence.
    long = client.get("/api/v1/units", query_string={"q": "x" * 300}, headers=EN)
    assert long.status_code == 422
    assert long.json == {
        "error": "invalid",
        "message": "Invalid parameters.",
        "fields": {"q": "at most 100 characters"},
    }
    french = client.get("/api/v1/units", query_string={"q": "x" * 300})
    assert french.json["fields"] == {"q": "au plus 100 caractères"}
    # A sentence whose value is itself a marked text (the mode's name): both said.
    url = "/api/v1/units/ORNEX/slots?motif=remise_arme&mode=video"
    english, french = client.get(url, headers=EN), client.get(url, headers=FR)
    assert english.status_code == french.status_code == 409
    assert english.json["error"] == french.json["error"] == "mode_unavailable"
    assert english.json["fields"]["mode"] == "This reason is not dealt with by video call."
    assert english.json["message"] == english.json["fields"]["mode"]
    assert french.json["fields"]["mode"] == "Ce motif ne se traite pas en visio."


@pytest.mark.usefixtures("unit")
def test_not_found_keeps_its_code_and_changes_its_words(client: FlaskClient) -> None:
    english = client.get("/api/v1/units/NOWHERE", headers=EN)
    french = client.get("/api/v1/units/NOWHERE")
    assert english.status_code == french.status_code == 404
    assert english.json == {
        "error": "unit_not_found",
        "message": "No active unit has this identifier.",
    }
    assert french.json == {
        "error": "unit_not_found",
        "message": "Aucune unité active ne porte cet identifiant.",
    }
    # An answer of the framework's own (a method not allowed) too.
    refused = client.delete("/api/v1/units/NOWHERE", headers=EN)
    assert refused.status_code == 405
    assert refused.json["message"] == "Method not allowed for this address."


@pytest.mark.usefixtures("unit")
def test_the_details_form_shows_its_mistakes_in_english(client: FlaskClient) -> None:
    url = f"/unites/ORNEX/rendez-vous?motif=otv&debut={TUESDAY_10.replace('+', '%2B')}"
    page = client.get(url, headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    sent = {
        "csrf_token": token.group(1),
        "debut": TUESDAY_10,
        "name": "Camille Martin",
        "email": "pas-une-adresse",
    }
    english = client.post("/unites/ORNEX/rendez-vous?motif=otv", data=sent, headers=EN)
    assert english.status_code == 422
    shown = english.get_data(as_text=True)
    assert "Invalid email address (example: firstname.lastname@example.com)." in shown
    assert "Adresse électronique invalide" not in shown
    french = client.post("/unites/ORNEX/rendez-vous?motif=otv", data=sent, headers=FR)
    assert "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)." in (
        french.get_data(as_text=True)
    )


def test_outside_a_request_the_messages_stay_french(app: Flask) -> None:
    """The command line and the job runner use a refusal as plain French text; a language
    is only said when asked for (the runner forces a booking's own)."""
    with app.app_context():
        refused = mode_refused("phone")
        assert refused.message == "Ce motif ne se traite pas par téléphone."
        assert str(refused) == "Ce motif ne se traite pas par téléphone."
        assert say(refused.message) == "Ce motif ne se traite pas par téléphone."
        with pytest.raises(Invalid) as wrong:
            validate_contact("x", "camille@example.org", "", "", "01")
        assert wrong.value.fields == {"name": "Indiquez votre nom (2 à 100 caractères)."}
        with force_locale("en"):
            assert say(refused.message) == "This reason is not dealt with by phone."
            assert say(wrong.value.fields["name"]) == "Enter your name (2 to 100 characters)."

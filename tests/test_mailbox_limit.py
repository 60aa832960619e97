"""The per-address limit, told to the address's owner only (SPEC §5).

An anonymous online booking is a hold confirmed from its email (the default). A request
with an address that already has its upcoming bookings is answered exactly as one with a
new address; its email tells the owner the limit is reached, and the limit is checked
again when the owner confirms. A partner service with an API key is told at once (409).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking.config import load_config, startup_warnings
from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from booking.services.staff.accounts import create_staff
from booking.services.staff.api_keys import issue_key
from tests.support.keys import SECRET_KEY
from tests.support.mail import link_in, rendered, text_of
from tests.support.staff import PASSWORD, csrf

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
OWNER = "victime@exemple.fr"
SAME_MAILBOX = "Victime+x@Exemple.fr"  # the same mailbox, written otherwise
TUESDAY = ["2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00"]
WEDNESDAY_10 = "2026-11-25T10:00:00+01:00"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The default: anonymous bookings confirmed from their email; two per address."""
    return {"BOOKING_EMAIL_VERIFICATION": True, "BOOKING_MAX_ACTIVE_PER_EMAIL": 2}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """Two desks, so that two people can ask for the same slot; Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=2)


def request(mail: str, start: str = WEDNESDAY_10) -> dict[str, str]:
    """An anonymous booking request."""
    return {"unit_id": "ORNEX", "motif": "otv", "start": start, "name": "Camille Martin",
            "email": mail}  # fmt: skip


def emails(app: Flask) -> list[OutboxMessage]:
    """Queued emails, oldest first."""
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def press(client: FlaskClient, link: str, button: str) -> str:
    """Open a booking's page and press one of its buttons; the page shown after."""
    page = client.get(link).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    action, form = next((a, f) for a, f in forms if button in f)
    fields = dict(re.findall(r'name="([a-z_]+)" type="hidden" value="([^"]*)"', form))
    response = client.post(action, data=fields)
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def fill_the_mailbox(app: Flask, client: FlaskClient) -> list[str]:
    """The owner books twice and confirms both from the emails; their manage links."""
    links = []
    for start in TUESDAY:
        answer = client.post("/api/v1/bookings", json=request(OWNER, start))
        assert answer.status_code == 201
        link = link_in(rendered(app, emails(app)[-1]))
        assert "Votre rendez-vous est confirmé" in press(client, link, "Confirmer")
        links.append(answer.json["cancel_url"].removeprefix("http://rdv.test"))
    with app.app_context():
        assert db.session.scalars(select(Booking.status)).all() == ["confirmed"] * 2
    return links


# A booking's reference; the secret of its link, in a URL or in a form; a form's CSRF token
# (signed with the second it was made).
OWN = re.compile(
    rb"[A-Z2-9]{8}(?=[?/\" <])|(?<=token=)[\w-]{43}"
    rb'|(?<="token" type="hidden" value=")[\w-]{43}|(?<="csrf_token" type="hidden" value=")[^"]+'
)


def own_identifiers(response: TestResponse) -> tuple[bytes, dict[str, str]]:
    """An answer's body and headers with its own identifiers (the booking's reference and
    the secret of its link) and what changes with every request replaced by placeholders."""
    body = response.get_data()
    for value in OWN.findall(body):
        body = body.replace(value, b"<own>")
    varying = {"Date", "X-Request-ID", "X-RateLimit-Remaining", "X-RateLimit-Reset",
               "Retry-After", "Location", "Set-Cookie"}  # fmt: skip
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    return body, headers


@pytest.mark.usefixtures("unit")
def test_an_address_at_its_limit_is_answered_as_a_new_address_and_its_owner_is_emailed(
    app: Flask, client: FlaskClient
) -> None:
    fill_the_mailbox(app, client)
    before = len(emails(app))
    stranger = app.test_client()
    at_limit = stranger.post("/api/v1/bookings", json=request(SAME_MAILBOX))
    new = stranger.post("/api/v1/bookings", json=request("nouvelle@exemple.fr"))
    assert at_limit.status_code == new.status_code == 201
    assert at_limit.json["reference"] != new.json["reference"]
    assert own_identifiers(at_limit) == own_identifiers(new)
    assert at_limit.json["status"] == "pending"
    # What the answer's link opens is the same page too (but for its own identifiers).
    pages = [
        own_identifiers(stranger.get(answer.json["cancel_url"].removeprefix("http://rdv.test")))
        for answer in (at_limit, new)
    ]
    assert pages[0] == pages[1]
    # The owner is told, by email; the new address gets the usual request to confirm.
    over, usual = emails(app)[before:]
    assert (over.kind, over.recipient) == ("over_limit", "Victime+x@exemple.fr")
    assert (usual.kind, usual.recipient) == ("verification", "nouvelle@exemple.fr")
    told = rendered(app, over)
    assert told["Subject"].startswith("Limite atteinte : rendez-vous le mercredi 25 novembre")
    assert "Cette adresse a déjà 2 rendez-vous à venir" in text_of(told)
    assert "limite" not in rendered(app, usual)["Subject"].lower()


@pytest.mark.usefixtures("unit")
def test_the_web_form_answers_an_address_at_its_limit_as_a_new_address(
    app: Flask, client: FlaskClient
) -> None:
    fill_the_mailbox(app, client)
    url = f"/unites/ORNEX/rendez-vous?motif=otv&debut={WEDNESDAY_10.replace('+', '%2B')}"
    shown = []
    for mail in (SAME_MAILBOX, "nouvelle@exemple.fr"):
        visitor = app.test_client()
        page = visitor.get(url).get_data(as_text=True)
        key = re.search(r'name="cle" type="hidden" value="([^"]+)"', page).group(1)
        sent = visitor.post(
            "/unites/ORNEX/rendez-vous?motif=otv",
            data={"csrf_token": csrf(page), "debut": WEDNESDAY_10, "cle": key,
                  "name": "Camille Martin", "email": mail, "phone": "", "comment": ""},
        )  # fmt: skip
        assert sent.status_code == 303
        after = visitor.get(sent.headers["Location"])
        typed = re.compile(re.escape(mail.encode()), re.IGNORECASE)
        shown.append(typed.sub(b"<mail>", own_identifiers(after)[0]))
    assert shown[0] == shown[1]
    assert "Un courriel est envoyé à" in shown[0].decode()
    assert [entry.kind for entry in emails(app)[-2:]] == ["over_limit", "verification"]


@pytest.mark.usefixtures("unit")
def test_the_owner_frees_a_place_then_confirms_from_the_email(
    app: Flask, client: FlaskClient
) -> None:
    first, _ = fill_the_mailbox(app, client)
    client.post("/api/v1/bookings", json=request(SAME_MAILBOX))
    link = link_in(rendered(app, emails(app)[-1]))
    refused = press(client, link, "Confirmer")
    assert "Cette adresse a déjà 2 rendez-vous à venir" in refused
    assert "Confirmer mon rendez-vous" in refused  # the button stays, for after
    page = client.get(first).get_data(as_text=True)
    reference = first.split("/rendez-vous/")[1].split("?")[0]
    asked = client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(page), "token": first.split("token=")[1]},
    ).get_data(as_text=True)
    client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(asked), "token": first.split("token=")[1], "confirme": "oui"},
    )
    assert "Votre rendez-vous est confirmé" in press(client, link, "Confirmer")
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Booking.status)).all())
    assert statuses == ["cancelled_by_citizen", "confirmed", "confirmed"]


@pytest.mark.usefixtures("unit")
def test_only_the_email_confirms_a_hold(app: Flask, client: FlaskClient) -> None:
    """The answer's link (which a stranger typing someone's address gets) sees the hold and
    can free it, never confirm it: the booking is made by the mailbox's owner or not at all."""
    answer = client.post("/api/v1/bookings", json=request("autrui@exemple.fr")).json
    link = answer["cancel_url"].removeprefix("http://rdv.test")
    page = client.get(link).get_data(as_text=True)
    assert "Confirmer mon rendez-vous" not in page
    token = link.split("token=")[1]
    for confirmation in ("", "x" * 43, token):
        client.post(
            f"/rendez-vous/{answer['reference']}/confirmer",
            data={"csrf_token": csrf(page), "token": token, "confirmation": confirmation},
        )
    shown = client.get(link).get_data(as_text=True)
    assert "ouvrez le lien du courriel" in shown
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "pending"
    assert [entry.kind for entry in emails(app)] == ["verification"]


@pytest.mark.usefixtures("unit")
def test_holds_a_stranger_made_with_an_address_do_not_fill_it(
    app: Flask, client: FlaskClient
) -> None:
    stranger = app.test_client()
    for start in TUESDAY:
        assert stranger.post("/api/v1/bookings", json=request(OWNER, start)).status_code == 201
    client.post("/api/v1/bookings", json=request(OWNER))
    mine = emails(app)[-1]
    assert mine.kind == "verification"
    assert "Votre rendez-vous est confirmé" in press(
        client, link_in(rendered(app, mine)), "Confirmer"
    )


@pytest.mark.usefixtures("unit")
def test_a_partner_with_an_api_key_books_at_once_and_is_told_the_limit(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        _, key = issue_key(admin, "Préfecture de l'Ain")
    partner = {"Authorization": f"Bearer {key}"}
    for start in TUESDAY:
        made = client.post("/api/v1/bookings", json=request(OWNER, start), headers=partner)
        assert (made.status_code, made.json["status"]) == (201, "confirmed")
    third = client.post("/api/v1/bookings", json=request(SAME_MAILBOX), headers=partner)
    assert (third.status_code, third.json["error"]) == (409, "limit_reached")
    assert [entry.kind for entry in emails(app)] == ["confirmation", "confirmation"]


def test_verification_is_on_unless_turned_off_and_off_is_warned_of(tmp_path: Any) -> None:
    production = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "SMTP_HOST": "smtp.test"}
    assert load_config(str(tmp_path), production)["BOOKING_EMAIL_VERIFICATION"] is True
    told = startup_warnings(load_config(str(tmp_path), production))
    assert not [warning for warning in told if "BOOKING_EMAIL_VERIFICATION" in warning]
    off = load_config(str(tmp_path), {**production, "BOOKING_EMAIL_VERIFICATION": "false"})
    assert off["BOOKING_EMAIL_VERIFICATION"] is False
    [warning] = [w for w in startup_warnings(off) if "BOOKING_EMAIL_VERIFICATION" in w]
    assert "a déjà des rendez-vous" in warning

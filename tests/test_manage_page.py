"""The manage page of the email's link: GET shows, only POST (with CSRF) changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import func, select, update

from booking.extensions import db
from booking.models import Booking, OutboxMessage, Unit
from tests.support.mail import rendered

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
REQUEST = {
    "unit_id": "ORNEX",
    "motif": "otv",
    "start": "2026-11-24T10:00:00+01:00",
    "name": "Camille Martin",
    "email": "camille@example.org",
}


@pytest.fixture
def link(
    client: FlaskClient, create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]
) -> str:
    """The manage link of a fresh booking (path and query)."""
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX", desks=1)
    url = client.post("/api/v1/bookings", json=REQUEST).json["cancel_url"]
    return url.removeprefix("http://rdv.test")


def csrf(page: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token"
    return match.group(1)


def token_of(link: str) -> str:
    """The secret of a manage link."""
    return link.split("token=")[1]


def booking(app: Flask) -> Booking:
    """The only booking."""
    with app.app_context():
        found = db.session.scalar(select(Booking).where(Booking.email == "camille@example.org"))
        db.session.expunge(found)
        return found


def test_get_shows_the_booking_and_changes_nothing(
    app: Flask, client: FlaskClient, link: str
) -> None:
    for _ in range(3):  # a mail scanner may open the link several times
        response = client.get(link)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    assert booking(app).reference in page
    assert "mardi 24 novembre 2026 à 10 h 00" in page
    assert 'action="/rendez-vous/' in page
    assert 'method="post"' in page
    assert booking(app).status == "confirmed"


@pytest.mark.parametrize("damage", ["wrong-token", "unknown-reference", "no-token"])
def test_a_wrong_link_shows_nothing_of_the_booking(
    client: FlaskClient, link: str, damage: str
) -> None:
    path, token = link.split("?token=")
    broken = {
        "wrong-token": f"{path}?token={token[:-3]}abc",
        "unknown-reference": f"/rendez-vous/ZZZZZZZZ?token={token}",
        "no-token": path,
    }[damage]
    response = client.get(broken)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Camille" not in page
    assert "Ornex" not in page


def test_cancelling_asks_first_then_cancels_and_sends_a_cancel_invitation(
    app: Flask, client: FlaskClient, link: str
) -> None:
    page = client.get(link).get_data(as_text=True)
    reference = booking(app).reference
    asked = client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(page), "token": token_of(link)},
    )
    assert asked.status_code == 200  # the first step changes nothing
    question = asked.get_data(as_text=True)
    assert "Annuler ce rendez-vous ?" in question
    assert "mardi 24 novembre 2026 à 10 h 00" in question
    assert f'href="{link}"' in question.replace("&amp;", "&")  # « Non, garder mon rendez-vous »
    assert asked.headers["Referrer-Policy"] == "no-referrer"
    assert booking(app).status == "confirmed"
    response = client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(question), "token": token_of(link), "confirme": "oui"},
    )
    assert response.status_code == 303
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre rendez-vous est annulé" in after
    assert "annulé à votre demande" in after
    assert "Annuler ce rendez-vous" not in after
    assert booking(app).status == "cancelled_by_citizen"
    with app.app_context():
        kinds = [entry.kind for entry in db.session.scalars(select(OutboxMessage))]
    assert kinds == ["confirmation", "cancellation"]
    again = client.post(  # the question page, sent again once cancelled: nothing more
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(question), "token": token_of(link), "confirme": "oui"},
    )
    assert again.status_code == 303
    assert "déjà annulé" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_cancelling_with_a_wrong_secret_shows_nothing(
    app: Flask, client: FlaskClient, link: str
) -> None:
    page = client.get(link).get_data(as_text=True)
    reference = booking(app).reference
    forged = client.post(
        f"/rendez-vous/{reference}/annuler",
        data={"csrf_token": csrf(page), "token": token_of(link)[:-4] + "AAAA"},
    )
    assert forged.status_code == 404
    assert "Camille" not in forged.get_data(as_text=True)
    assert booking(app).status == "confirmed"


def test_moving_offers_the_whole_horizon_week_by_week(client: FlaskClient, link: str) -> None:
    first = client.get(link).get_data(as_text=True)
    assert "Créneaux libres du lundi 23 au dimanche 29 novembre" in first
    assert "Semaine précédente" not in first
    weeks = 0
    page = first
    while "Semaine suivante" in page:
        following = re.search(r'href="([^"]+semaine=\d+[^"]*)">Semaine suivante', page)
        assert following, "the next week's button has no link"
        page = client.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
        weeks += 1
        assert "Semaine précédente" in page
        assert 'name="start"' in page  # slots to move to, in every week of the horizon
    assert weeks == 4  # 28 days of horizon: this week and four more pages
    assert 'value="2026-12-21T' in page  # four weeks on: still offered


def test_post_without_csrf_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, link: str
) -> None:
    reference = booking(app).reference
    response = client.post(f"/rendez-vous/{reference}/annuler", data={"token": token_of(link)})
    assert response.status_code == 400
    assert booking(app).status == "confirmed"


def test_move_keeps_the_uid_and_raises_the_sequence(
    app: Flask, client: FlaskClient, link: str
) -> None:
    page = client.get(link).get_data(as_text=True)
    assert 'value="2026-11-24T10:30:00+01:00"' in page  # other slots offered as choices
    before = booking(app)
    response = client.post(
        f"/rendez-vous/{before.reference}/deplacer",
        data={
            "csrf_token": csrf(page),
            "token": token_of(link),
            "start": "2026-11-24T10:30:00+01:00",
        },
    )
    assert response.status_code == 303
    after = booking(app)
    assert after.starts_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert after.ics_sequence == before.ics_sequence + 1
    with app.app_context():
        moved = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[-1]
    assert moved.kind == "moved"
    message = rendered(app, moved)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(event["uid"]) == before.ics_uid
    assert int(event["sequence"]) == 1
    assert event.decoded("dtstart") == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_move_onto_a_slot_taken_meanwhile_says_so_and_keeps_the_booking(
    app: Flask, client: FlaskClient, link: str
) -> None:
    page = client.get(link).get_data(as_text=True)
    other = {**REQUEST, "start": "2026-11-24T11:00:00+01:00", "email": "autre@example.org"}
    assert client.post("/api/v1/bookings", json=other).status_code == 201  # the race is lost
    before = booking(app)
    response = client.post(
        f"/rendez-vous/{before.reference}/deplacer",
        data={
            "csrf_token": csrf(page),
            "token": token_of(link),
            "start": "2026-11-24T11:00:00+01:00",
        },
    )
    assert response.status_code == 409
    assert "plus disponible" in response.get_data(as_text=True)
    assert booking(app).starts_at == before.starts_at


def test_a_deactivated_units_booking_can_still_be_seen_and_cancelled(
    app: Flask, client: FlaskClient, link: str
) -> None:
    with app.app_context():
        db.session.execute(update(Unit).values(active=False))
        db.session.commit()
    page = client.get(link)
    assert page.status_code == 200
    assert "Annuler ce rendez-vous" in page.get_data(as_text=True)
    reference = link.split("/rendez-vous/")[1].split("?")[0]
    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel", json={"token": token_of(link)})
    assert cancelled.status_code == 200


def test_a_reminder_is_promised_only_when_one_will_be_sent(client: FlaskClient, link: str) -> None:
    ahead = client.get(link.replace("?", "/confirme?")).get_data(as_text=True)
    assert "Un rappel vous sera envoyé par courriel 24 heures avant." in ahead  # 27 h ahead
    soon = {**REQUEST, "start": "2026-11-23T09:00:00+01:00", "email": "tot@example.org"}
    url = client.post("/api/v1/bookings", json=soon).json["cancel_url"]
    confirmed = url.removeprefix("http://rdv.test").replace("?", "/confirme?")
    page = client.get(confirmed).get_data(as_text=True)
    assert "Votre rendez-vous est confirmé" in page
    assert "rappel" not in page  # two hours ahead: the confirmation says it all

"""Bookings made for someone (SPEC §12): an agent books for a caller from the agenda (no
email: nothing sent, a card to print), an invitation link opens one unit's slots for one
reason and mode and books once; both audited, both recorded with their channel."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.errors import ServiceError
from booking.extensions import db
from booking.models import AuditEntry, Booking, Invitation, OutboxMessage, StaffUser, Unit
from booking.services.bookings.make import BookingDetails, book
from booking.services.staff import invitations
from booking.services.staff.accounts import create_staff
from tests.support.mail import rendered
from tests.support.staff import PASSWORD, csrf, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"VIDEO_ROOM_URL": "https://visio.example.org"}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1, remote_lines=1)


@pytest.fixture
def agent(app: Flask, unit: Unit) -> FlaskClient:
    """A client signed in as an agent of ORNEX."""
    with app.app_context():
        create_staff("agent@gendarmerie.interieur.gouv.fr", PASSWORD, ["ORNEX"])
    client = app.test_client()
    assert sign_in(client, "agent@gendarmerie.interieur.gouv.fr").status_code == 303
    return client


def book_for_caller(agent: FlaskClient, **fields: str) -> Any:
    page = agent.get(
        "/staff/units/ORNEX/rendez-vous/nouveau?motif=signalement&mode=phone&date=2026-11-24"
    )
    assert page.status_code == 200
    assert TUESDAY_10 in page.text  # the same slots as online
    data = {
        "csrf_token": csrf(page.text),
        "motif": "signalement",
        "mode": "phone",
        "date": "2026-11-24",
        "start": TUESDAY_10,
        "name": "Dominique Appelant",
        "phone": "06 12 34 56 78",
        "email": "",
    } | fields
    return agent.post("/staff/units/ORNEX/rendez-vous/nouveau", data=data)


def bookings(app: Flask) -> list[Booking]:
    with app.app_context():
        found = list(db.session.scalars(select(Booking).order_by(Booking.id)))
        db.session.expunge_all()
        return found


def test_an_agent_books_a_phone_appointment_for_a_caller_without_email(
    app: Flask, agent: FlaskClient
) -> None:
    answer = book_for_caller(agent)
    assert answer.status_code == 303, answer.text
    [made] = bookings(app)
    assert (made.channel, made.mode, made.status, made.email) == ("staff", "phone", "confirmed", "")
    assert made.phone == "+33612345678"
    card = agent.get(answer.headers["Location"])
    assert card.status_code == 200
    spaced = f"{made.reference[:4]} {made.reference[4:]}"
    assert spaced in card.text  # read aloud four characters at a time
    assert "Aucun courriel n'est envoyé" in html.unescape(card.text)
    assert "l'unité vous appellera au 06 12 34 56 78" in html.unescape(card.text)
    assert f"/rendez-vous/{made.reference}?token=" in card.text  # the caller's own link
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target == made.reference))
        assert entry is not None
        assert entry.action == "rendez-vous pris pour un appelant"
        agent_id = db.session.scalar(select(StaffUser.id))
    assert made.booked_by_id == agent_id
    agenda = agent.get("/staff/units/ORNEX/agenda?date=2026-11-24").text
    assert "Pris par un agent (agent@gendarmerie.interieur.gouv.fr)" in agenda
    assert "par téléphone" in agenda


def test_an_agent_books_in_the_callers_language_and_the_email_speaks_it(
    app: Flask, agent: FlaskClient
) -> None:
    """A foreign caller: the agent's page stays French, the booking keeps English."""
    page = agent.get("/staff/units/ORNEX/rendez-vous/nouveau?motif=signalement&mode=phone")
    assert 'name="langue"' in page.text
    answer = book_for_caller(agent, email="jane@example.org", langue="en", name="Jane Smith")
    assert answer.status_code == 303, answer.text
    [made] = bookings(app)
    assert made.language == "en"
    assert 'lang="fr"' in agent.get(answer.headers["Location"]).text
    with app.app_context():
        [entry] = db.session.scalars(select(OutboxMessage))
    assert str(rendered(app, entry)["Subject"]).startswith("Appointment confirmed on ")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phone": ""}, "phone", "Indiquez le numéro où l'unité vous appellera"),
        ({"phone": "12"}, "phone", "Numéro de téléphone français invalide"),
        ({"mode": "on_site", "phone": ""}, "phone", "Indiquez un numéro de téléphone ou une"),
        ({"name": "X"}, "name", "Indiquez votre nom"),
    ],
)
def test_a_wrong_caller_booking_keeps_what_was_typed(
    app: Flask, agent: FlaskClient, fields: dict[str, str], field: str, message: str
) -> None:
    answer = book_for_caller(agent, comment="Rappeler avant midi", **fields)
    assert answer.status_code == 422
    assert message in html.unescape(answer.text)
    assert f'href="#{field}"' in answer.text
    assert "Rappeler avant midi" in answer.text  # kept
    assert bookings(app) == []


def test_an_agent_books_only_for_their_own_unit(
    app: Flask, agent: FlaskClient, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="AUTRE")
    assert agent.get("/staff/units/AUTRE/rendez-vous/nouveau").status_code == 404
    page = agent.get("/staff/units/ORNEX/rendez-vous/nouveau").text
    refused = agent.post(
        "/staff/units/AUTRE/rendez-vous/nouveau",
        data={"csrf_token": csrf(page), "motif": "signalement", "start": TUESDAY_10},
    )
    assert refused.status_code == 404
    assert bookings(app) == []


def make_link(agent: FlaskClient, choice: str = "signalement|video") -> str:
    page = agent.get("/staff/units/ORNEX/invitations")
    made = agent.post(
        "/staff/units/ORNEX/invitations", data={"csrf_token": csrf(page.text), "choix": choice}
    )
    assert made.status_code == 200
    found = re.search(r'value="http://rdv\.test(/invitation\?c=[A-Za-z0-9_-]+)"', made.text)
    assert found, made.text
    return found.group(1)


def open_form(client: FlaskClient, link: str, start: str = TUESDAY_10) -> tuple[str, str]:
    """Open the link, then the form of a slot: the query and the form's CSRF token."""
    slots = client.get(link)
    assert slots.status_code == 200
    token = link.split("c=")[1]
    query = f"motif=signalement&mode=video&invitation={token}"
    form = client.get(f"/unites/ORNEX/rendez-vous?{query}&{urlencode({'debut': start})}")
    assert form.status_code == 200
    return query, csrf(form.text)


def submit(client: FlaskClient, opened: tuple[str, str], email: str, start: str) -> Any:
    query, token = opened
    return client.post(
        f"/unites/ORNEX/rendez-vous?{query}",
        data={"csrf_token": token, "debut": start, "name": "Camille Invitée", "email": email},
    )


def test_an_invitation_link_opens_its_slots_and_books_once(
    app: Flask, agent: FlaskClient, client: FlaskClient
) -> None:
    link = make_link(agent)
    page = client.get(link)
    assert "Rendez-vous en visio" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Two people opened the link; the first to book spends it.
    other = app.test_client()
    first = open_form(client, link)
    second = open_form(other, link, "2026-11-24T11:00:00+01:00")
    assert submit(client, first, "camille@example.org", TUESDAY_10).status_code == 303
    late = submit(other, second, "autre@example.org", "2026-11-24T11:00:00+01:00")
    assert late.status_code == 410
    assert "Ce lien d'invitation a déjà servi" in html.unescape(late.text)
    assert "Camille Invitée" in late.text  # what was typed is kept
    again = app.test_client().get(link)
    assert again.status_code == 410
    [made] = bookings(app)
    assert (made.channel, made.mode, made.status) == ("invitation", "video", "confirmed")
    listed = agent.get("/staff/units/ORNEX/invitations").text
    assert "a servi" in listed


def test_a_withdrawn_or_expired_link_books_nothing(
    app: Flask, agent: FlaskClient, client: FlaskClient, frozen_now: Callable[[datetime], None]
) -> None:
    withdrawn = make_link(agent)
    page = agent.get("/staff/units/ORNEX/invitations")
    with app.app_context():
        first_id = db.session.scalar(select(func.min(Invitation.id)))
    agent.post(
        f"/staff/units/ORNEX/invitations/{first_id}/retirer", data={"csrf_token": csrf(page.text)}
    )
    gone = client.get(withdrawn)
    assert gone.status_code == 410
    assert "retiré par l'unité" in html.unescape(gone.text)
    expiring = make_link(agent)
    frozen_now(MONDAY_7AM + timedelta(hours=73))
    late = client.get(expiring)
    assert late.status_code == 410
    assert "a expiré" in late.text
    assert client.get("/invitation?c=nimportequoi").status_code == 404
    assert bookings(app) == []
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("lien d'invitation créé") == 2
    assert actions.count("lien d'invitation retiré") == 1


def test_a_mode_the_unit_does_not_offer_makes_no_link(app: Flask, agent: FlaskClient) -> None:
    page = agent.get("/staff/units/ORNEX/invitations")
    refused = agent.post(
        "/staff/units/ORNEX/invitations",
        data={"csrf_token": csrf(page.text), "choix": "remise_arme|video"},
    )
    assert refused.status_code == 422
    assert "ne reçoit pas ce motif de cette façon" in refused.text


def test_two_bookings_through_one_link_at_once_make_one(
    app: Flask, unit: Unit, create_unit: Callable[..., Unit]
) -> None:
    """Two people open the same link and book two different slots at the same instant: the
    link's conditional spend lets one through, on either engine."""
    with app.app_context():
        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        reason_unit = db.session.get(Unit, unit.id)
        from booking.services.reasons import get_reason

        invitation, _ = invitations.create(admin, reason_unit, get_reason("signalement"), "video")
        invitation_id = invitation.id
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt(start: str, email: str) -> None:
        with app.app_context():
            target = db.session.get(Unit, unit.id)
            from booking.services.reasons import get_reason

            reason = get_reason("signalement")
            details = BookingDetails(start=start, name="Camille", email=email, mode="video")
            barrier.wait()
            try:
                book(
                    target,
                    reason,
                    details,
                    trusted=True,
                    within=invitations.spend(invitation_id, MONDAY_7AM),
                )
                outcomes.append("booked")
            except ServiceError as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=attempt, args=(TUESDAY_10, "a@example.org")),
        threading.Thread(target=attempt, args=("2026-11-24T11:00:00+01:00", "b@example.org")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "invitation_gone"], outcomes
    assert len(bookings(app)) == 1


def test_an_administrator_sets_the_lines_and_lowering_them_lists_the_visits(
    app: Flask, agent: FlaskClient, create_booking: Callable[..., Booking], unit: Unit
) -> None:
    # An agent sees the number but cannot change it.
    page = agent.get("/staff/units/ORNEX/settings")
    assert "Lignes à distance : <strong>1</strong>" in page.text
    refused = agent.post(
        "/staff/units/ORNEX/remote-lines", data={"csrf_token": csrf(page.text), "remote_lines": "3"}
    )
    assert refused.status_code == 403
    with app.app_context():
        create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
    admin = app.test_client()
    assert sign_in(admin, "admin@gendarmerie.interieur.gouv.fr").status_code == 303
    visit = create_booking(unit, datetime(2099, 12, 1, 9, 0, tzinfo=UTC), mode="phone")
    page = admin.get("/staff/units/ORNEX/settings")
    lowered = admin.post(
        "/staff/units/ORNEX/remote-lines", data={"csrf_token": csrf(page.text), "remote_lines": "0"}
    )
    assert lowered.status_code == 409
    assert visit.reference in lowered.text
    assert "ne tiendraient plus sur 0 lignes à distance" in html.unescape(lowered.text)
    raised = admin.post(
        "/staff/units/ORNEX/remote-lines", data={"csrf_token": csrf(page.text), "remote_lines": "2"}
    )
    assert raised.status_code == 303
    with app.app_context():
        assert db.session.get(Unit, unit.id).remote_lines == 2
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "capacités")).one()
    assert '"lignes à distance": 2' in entry.after


def test_an_invitation_books_whatever_the_address_holds_and_tells_nothing_about_it(
    app: Flask, agent: FlaskClient, client: FlaskClient, create_booking: Callable[..., Booking]
) -> None:
    """Whoever holds a link must not learn, by the answer, that an address is at its limit
    (SPEC §5): an invitation's booking is not counted against it, and spends the link."""
    for hour in (13, 14):  # the address already holds as many bookings as allowed
        create_booking(
            unit_of(app),
            datetime(2026, 11, 26, hour, 0, tzinfo=UTC),
            email="camille@example.org",
            email_key="camille@example.org",
        )
    link = make_link(agent)
    booked = submit(client, open_form(client, link), "camille@example.org", TUESDAY_10)
    assert booked.status_code == 303
    assert app.test_client().get(link).status_code == 410  # spent


def unit_of(app: Flask) -> Unit:
    with app.app_context():
        found = db.session.scalars(select(Unit).where(Unit.public_id == "ORNEX")).one()
        db.session.expunge(found)
        return found


def test_a_mode_no_longer_offered_is_refused_not_switched(
    app: Flask, agent: FlaskClient, unit: Unit
) -> None:
    page = agent.get("/staff/units/ORNEX/rendez-vous/nouveau?motif=signalement&mode=phone")
    with app.app_context():
        db.session.get(Unit, unit.id).remote_lines = 0  # meanwhile, no more lines
        db.session.commit()
    refused = agent.post(
        "/staff/units/ORNEX/rendez-vous/nouveau",
        data={
            "csrf_token": csrf(page.text),
            "motif": "signalement",
            "mode": "phone",
            "start": TUESDAY_10,
            "name": "Dominique Appelant",
            "phone": "06 12 34 56 78",
        },
    )
    assert refused.status_code == 409
    assert "Ce motif ne se traite pas par téléphone" in html.unescape(refused.text)
    assert bookings(app) == []


def test_a_double_click_books_once(app: Flask, agent: FlaskClient) -> None:
    page = agent.get("/staff/units/ORNEX/rendez-vous/nouveau?motif=signalement&mode=phone")
    key = re.search(r'name="cle" value="([^"]+)"', page.text)
    assert key
    data = {
        "csrf_token": csrf(page.text),
        "cle": key.group(1),
        "motif": "signalement",
        "mode": "phone",
        "start": TUESDAY_10,
        "name": "Dominique Appelant",
        "phone": "06 12 34 56 78",
    }
    first = agent.post("/staff/units/ORNEX/rendez-vous/nouveau", data=data)
    second = agent.post("/staff/units/ORNEX/rendez-vous/nouveau", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(bookings(app)) == 1

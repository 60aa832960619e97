"""Authorisation matrix: an agent of unit A reaches nothing of unit B, on every staff route."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, CalendarFeed, Closure, Invitation, OpeningRange, Unit
from booking.services.reasons import get_reason
from booking.services.staff import invitations
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, csrf, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SECRET_NAME = "Bérénice Confidentielle"


@pytest.fixture
def world(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    create_closure: Callable[..., Closure],
    frozen_now: Callable[[datetime], None],
) -> dict[str, str]:
    """Units A and B with a booking and a closure each; the client is A's agent."""
    frozen_now(MONDAY_7AM)
    a = create_unit(public_id="UNIT-A", name="Brigade d'Ornex")
    b = create_unit(public_id="UNIT-B", name="Brigade de Gex-Secret")
    create_booking(a, MONDAY_7AM + timedelta(days=1, hours=3), name="Alice Visible")
    secret = create_booking(b, MONDAY_7AM + timedelta(days=1, hours=3), name=SECRET_NAME)
    closure = create_closure(b, MONDAY_7AM + timedelta(days=3), MONDAY_7AM + timedelta(days=4))
    with app.app_context():
        create_staff("agent.a@gendarmerie.interieur.gouv.fr", PASSWORD, ["UNIT-A"])
        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        unit_b = db.session.get(Unit, b.id)
        invitation, _ = invitations.create(admin, unit_b, get_reason("signalement"), "on_site")
    assert sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr").status_code == 303
    return {
        "public_id": "UNIT-B",
        "reference": secret.reference,
        "closure_id": str(closure.id),
        "invitation_id": str(invitation.id),
        "csrf": csrf(client.get("/staff/units/UNIT-A/agenda").get_data(as_text=True)),
    }


def unit_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every staff route that names a unit."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff.") and "public_id" in rule.arguments:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule, rule.endpoint))
    return routes


def snapshot_of_b(app: Flask) -> tuple[object, ...]:
    """Everything of unit B that a route could change."""
    with app.app_context():
        b = db.session.scalar(select(Unit).where(Unit.public_id == "UNIT-B"))
        return (
            b.desks,
            b.updated_at,
            tuple(db.session.scalars(select(Booking.status).where(Booking.unit_id == b.id))),
            db.session.scalar(select(func.count(Closure.id)).where(Closure.unit_id == b.id)),
            db.session.scalar(
                select(func.count(OpeningRange.id)).where(OpeningRange.unit_id == b.id)
            ),
            db.session.scalar(
                select(func.count(CalendarFeed.id)).where(CalendarFeed.unit_id == b.id)
            ),
            b.remote_lines,
            tuple(
                db.session.execute(
                    select(Invitation.id, Invitation.revoked_at).where(Invitation.unit_id == b.id)
                )
            ),
        )


def test_the_matrix_covers_every_staff_route(app: Flask) -> None:
    endpoints = {endpoint for _, _, endpoint in unit_routes(app)}
    assert endpoints == {
        "staff.agenda",
        "staff.agenda_csv",
        "staff.visit",
        "staff.cancel",
        "staff.settings",
        "staff.save_settings",
        "staff.add_closure",
        "staff.remove_closure",
        "staff.new_feed",
        "staff.revoke_feed",
        "staff.feed",
        "staff.new_booking",
        "staff.book_caller",
        "staff.card",
        "staff.invitation_links",
        "staff.make_invitation",
        "staff.revoke_invitation",
        "staff.save_remote_lines",
    }


def test_agent_of_a_gets_404_and_nothing_of_b_on_every_route(
    app: Flask, client: FlaskClient, world: dict[str, str]
) -> None:
    before = snapshot_of_b(app)
    checked = []
    for method, rule, endpoint in unit_routes(app):
        url = rule
        for name in ("public_id", "reference", "closure_id", "invitation_id"):
            url = url.replace(f"<{name}>", world[name]).replace(f"<int:{name}>", world[name])
        form = {
            "csrf_token": world["csrf"],
            "outcome": "honoured",
            "reason": "Tentative d'accès",
            "desks": "5",
            "h-0-1-start": "08:00",
            "h-0-1-end": "09:00",
            "start": "2026-11-30T08:00",
            "end": "2026-11-30T18:00",
            "confirm": "1",
            "motif": "signalement",
            "choix": "signalement|on_site",
            "name": "Intrus Curieux",
            "phone": "06 12 34 56 78",
            "remote_lines": "0",
        }
        response = client.get(url) if method == "GET" else client.post(url, data=form)
        body = response.get_data(as_text=True)
        assert response.status_code in {403, 404}, (method, url, response.status_code)
        assert "Gex-Secret" not in body, (method, url)
        assert SECRET_NAME not in body, (method, url)
        checked.append(endpoint)
    assert snapshot_of_b(app) == before  # and nothing of B changed
    assert len(checked) >= 10


def test_another_units_booking_cannot_be_reached_through_ones_own_unit(
    app: Flask, client: FlaskClient, world: dict[str, str]
) -> None:
    before = snapshot_of_b(app)
    for action, data in [("visit", {"outcome": "no_show"}), ("cancel", {"reason": "Essai"})]:
        response = client.post(
            f"/staff/units/UNIT-A/bookings/{world['reference']}/{action}",
            data={"csrf_token": world["csrf"], **data},
            follow_redirects=True,
        )
        assert "Aucun rendez-vous de cette unité" in response.get_data(as_text=True)
    closure = client.post(
        f"/staff/units/UNIT-A/closures/{world['closure_id']}/delete",
        data={"csrf_token": world["csrf"]},
    )
    assert closure.status_code == 404
    assert snapshot_of_b(app) == before


def test_signed_out_visitors_reach_no_staff_page(app: Flask, world: dict[str, str]) -> None:
    anonymous = app.test_client()
    for method, rule, endpoint in unit_routes(app):
        url = rule.replace("<public_id>", "UNIT-A").replace("<reference>", world["reference"])
        url = url.replace("<int:closure_id>", world["closure_id"])
        url = url.replace("<int:invitation_id>", world["invitation_id"])
        response = anonymous.get(url) if method == "GET" else anonymous.post(url, data={})
        expected = {404} if endpoint == "staff.feed" else {302, 400}  # login page or no CSRF
        assert response.status_code in expected, (method, url, response.status_code)

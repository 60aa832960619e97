"""Staff sessions (SPEC §15): ended after STAFF_IDLE_MINUTES without a request (30 by
default) and STAFF_SESSION_HOURS in all (12), listed on the account page where each can be
ended, and gone at once when the account is deactivated or deleted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from booking.extensions import db
from booking.models import StaffSession
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, csrf, sign_in

AGENT = "agent@gendarmerie.interieur.gouv.fr"
MORNING = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The defaults of SPEC §15 (the other tests' sessions outlast the days they cross)."""
    return {"STAFF_IDLE_MINUTES": 30, "STAFF_SESSION_HOURS": 12}


@pytest.fixture
def agent(
    app: Flask, create_unit: Callable[..., object], frozen_now: Callable[..., None]
) -> FlaskClient:
    frozen_now(MORNING)
    create_unit(public_id="UNIT-A", name="Brigade A")
    with app.app_context():
        create_staff(AGENT, PASSWORD, ["UNIT-A"])
    client = app.test_client()
    assert sign_in(client, AGENT).status_code == 303
    return client


def test_a_session_ends_after_thirty_idle_minutes_and_says_so(
    agent: FlaskClient, frozen_now: Callable[..., None]
) -> None:
    frozen_now(MORNING + timedelta(minutes=29))
    assert agent.get("/staff/").status_code == 200  # activity: the half hour starts again
    frozen_now(MORNING + timedelta(minutes=58))
    assert agent.get("/staff/").status_code == 200
    frozen_now(MORNING + timedelta(minutes=88, seconds=1))
    answer = agent.get("/staff/units/UNIT-A/agenda")
    assert answer.status_code == 302
    page = agent.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Votre session a pris fin après 30 minutes sans activité" in page
    frozen_now(MORNING + timedelta(minutes=89))
    assert agent.get("/staff/").status_code == 302  # ended for good, not only while idle


def test_a_session_ends_twelve_hours_after_sign_in_however_active(
    agent: FlaskClient, frozen_now: Callable[..., None]
) -> None:
    for minutes in range(20, 12 * 60, 20):
        frozen_now(MORNING + timedelta(minutes=minutes))
        assert agent.get("/staff/").status_code == 200, minutes
    frozen_now(MORNING + timedelta(hours=12))
    answer = agent.get("/staff/")
    assert answer.status_code == 302
    page = agent.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Votre session a atteint sa durée maximale de 12 heures" in page


def test_the_account_page_lists_the_open_sessions_and_ends_one(
    app: Flask, agent: FlaskClient
) -> None:
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    assert sign_in(phone, AGENT).status_code == 303
    page = agent.get("/staff/compte").get_data(as_text=True)
    assert page.count(">Fermer cette session<") == 1  # the phone's
    assert "(cette session)" in page
    assert "Chrome sur Android" in page
    assert "Mot de passe et code de l&#39;application" in page
    with app.app_context():
        rows = list(db.session.scalars(select(StaffSession).order_by(StaffSession.id)))
    desk_row, phone_row = rows
    ended = agent.post(
        f"/staff/compte/sessions/{phone_row.id}/fin", data={"csrf_token": csrf(page)}
    )
    assert ended.status_code == 303
    assert phone.get("/staff/").status_code == 302
    assert agent.get("/staff/").status_code == 200
    # Another agent's session is not theirs to end: it does not exist for them.
    with app.app_context():
        create_staff("autre@gendarmerie.interieur.gouv.fr", PASSWORD, ["UNIT-A"])
    other = app.test_client()
    sign_in(other, "autre@gendarmerie.interieur.gouv.fr")
    mine = other.get("/staff/compte").get_data(as_text=True)
    refused = other.post(
        f"/staff/compte/sessions/{desk_row.id}/fin", data={"csrf_token": csrf(mine)}
    )
    assert refused.status_code == 404
    assert agent.get("/staff/").status_code == 200
    # Ending one's own session signs out.
    own = agent.post(f"/staff/compte/sessions/{desk_row.id}/fin", data={"csrf_token": csrf(page)})
    assert own.status_code == 303
    assert agent.get("/staff/").status_code == 302


def test_a_deleted_account_loses_its_sessions_at_once(
    agent: FlaskClient, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["staff", "delete", "--email", AGENT])
    assert result.exit_code == 0, result.output
    assert agent.get("/staff/").status_code == 302


def test_an_administrator_deactivates_an_account_and_its_sessions_end_at_once(
    app: Flask, agent: FlaskClient
) -> None:
    with app.app_context():
        create_staff("chef@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
    chief = app.test_client()
    sign_in(chief, "chef@gendarmerie.interieur.gouv.fr")
    page = chief.get("/staff/comptes").get_data(as_text=True)
    chief.post(
        "/staff/comptes/action",
        data={"csrf_token": csrf(page), "email": AGENT, "action": "desactiver"},
    )
    answer = agent.get("/staff/")
    assert answer.status_code == 302
    assert "Ce compte est désactivé." in agent.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    assert sign_in(app.test_client(), AGENT).status_code == 401
    refused = chief.post(
        "/staff/comptes/action",
        data={
            "csrf_token": csrf(page),
            "email": "chef@gendarmerie.interieur.gouv.fr",
            "action": "desactiver",
        },
        follow_redirects=True,
    )
    assert "ne désactive pas son propre compte" in refused.get_data(as_text=True)

"""The staff workspace: accounts, the agenda, visits, cancellations, settings, feed, audit."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from icalendar import Calendar
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from booking.config import load_config
from booking.extensions import db
from booking.models import AuditEntry, Booking, OutboxMessage, StaffUser, Unit
from booking.services.staff.accounts import create_staff
from booking.services.units.settings import promote_scheduled_hours
from tests.support.mail import rendered
from tests.support.staff import PASSWORD, csrf, second_step, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_9 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def token(client: FlaskClient, path: str) -> str:
    """A CSRF token from a page of the workspace."""
    return csrf(client.get(path).get_data(as_text=True))


@pytest.fixture
def units(
    app: Flask, create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]
) -> tuple[Unit, Unit]:
    """Units A (Ornex, two desks) and B (Gex), an agent of A, an administrator."""
    frozen_now(MONDAY_7AM)
    a = create_unit(public_id="UNIT-A", name="Brigade d'Ornex", desks=2)
    b = create_unit(public_id="UNIT-B", name="Brigade de Gex-Secret", commune="Gex")
    with app.app_context():
        create_staff("agent.a@gendarmerie.interieur.gouv.fr", PASSWORD, ["UNIT-A"])
        create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
    return a, b


@pytest.fixture
def agent(client: FlaskClient, units: tuple[Unit, Unit]) -> FlaskClient:
    """A client signed in as the agent of unit A."""
    assert sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr").status_code == 303
    return client


def outbox(app: Flask) -> list[OutboxMessage]:
    """Queued emails."""
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def status_of(app: Flask, reference: str) -> str:
    """A booking's status."""
    with app.app_context():
        return db.session.scalar(select(Booking.status).where(Booking.reference == reference))


# --- accounts ---------------------------------------------------------------------------


def test_cli_creates_an_agent_and_refuses_bad_requests(
    app: Flask, runner: FlaskCliRunner, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="U1")
    ok = runner.invoke(
        args=["staff", "create", "--email", "a@b.fr", "--password", PASSWORD, "--unit", "U1"]
    )
    assert ok.exit_code == 0, ok.output
    assert "Compte créé : a@b.fr (agent de U1)" in ok.output
    for args, message in [
        (["--email", "a@b.fr", "--password", PASSWORD, "--unit", "U1"], "existe déjà"),
        (["--email", "c@b.fr", "--password", "court", "--unit", "U1"], "12 caractères"),
        (["--email", "c@b.fr", "--password", PASSWORD, "--unit", "NOPE"], "unités inconnues"),
        (["--email", "c@b.fr", "--password", PASSWORD], "au moins une unité"),
        (["--email", "pas-une-adresse", "--password", PASSWORD, "--admin"], "invalide"),
    ]:
        result = runner.invoke(args=["staff", "create", *args])
        assert result.exit_code == 1
        assert message in result.output
    with app.app_context():
        stored = db.session.scalar(select(Booking.__table__.c.id).limit(1))
        assert stored is None

        user = db.session.scalar(select(StaffUser))
        assert user.password_hash.startswith("scrypt:")
        assert PASSWORD not in user.password_hash


@pytest.mark.usefixtures("units")
def test_login_refuses_wrong_passwords_in_french_then_lets_the_agent_in(
    client: FlaskClient,
) -> None:
    assert client.get("/staff/").status_code == 302  # to the login page
    wrong = sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr", "mauvais mot de passe")
    assert wrong.status_code == 401
    assert "Adresse ou mot de passe incorrect" in wrong.get_data(as_text=True)
    assert sign_in(client, "nobody@example.org").status_code == 401
    assert sign_in(client, "AGENT.A@gendarmerie.interieur.gouv.fr").status_code == 303
    page = client.get("/staff/").get_data(as_text=True)
    assert "Brigade d&#39;Ornex" in page
    assert "Gex-Secret" not in page
    client.post("/staff/logout", data={"csrf_token": csrf(page)})
    assert client.get("/staff/").status_code == 302


@pytest.mark.usefixtures("units")
def test_login_attempts_are_rate_limited(client: FlaskClient) -> None:
    statuses = [
        sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr", "x").status_code for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr").status_code == 429


@pytest.mark.usefixtures("units")
def test_a_stranger_cannot_lock_an_agent_out_and_sign_ins_are_security_events(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Wrong passwords for an agent's account from two addresses, ten each (the most an
    address may try in a minute), then more: those addresses are refused, the agent signing
    in from a third one is not; each success, failure and refusal is a security event that
    names the account only."""
    caplog.set_level(logging.INFO, logger="booking.security")
    account = "agent.a@gendarmerie.interieur.gouv.fr"

    def attempt(address: str, password: str) -> tuple[FlaskClient, TestResponse]:
        client = app.test_client()
        page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
        data = {"csrf_token": csrf(page.get_data(as_text=True)), "email": account}
        answer = client.post(
            "/staff/login",
            data={**data, "password": password},
            environ_base={"REMOTE_ADDR": address},
        )
        return client, answer

    for address in ("203.0.113.9", "203.0.113.10"):
        assert [attempt(address, "devine")[1].status_code for _ in range(11)][-1] == 429
    desk, answer = attempt("198.51.100.4", PASSWORD)  # the agent, from the desk
    assert answer.status_code == 303
    assert second_step(desk, account, answer).status_code == 200  # signed in: the codes
    events = [r.fields for r in caplog.records if r.name == "booking.security"]  # type: ignore[attr-defined]
    kinds = {event["event"] for event in events}
    assert {"échec de connexion", "connexion bloquée (trop d'essais)", "connexion"} <= kinds
    assert all(event["account"] == account for event in events)
    assert "devine" not in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        "/staff/login",
        "/staff/",
        "/staff/units/UNIT-A/agenda?date=2026-11-24",
        "/staff/units/UNIT-A/settings",
        "/staff/audit",
        "/staff/api-keys",
        "/staff/orientation",
    ],
)
def test_every_staff_page_is_kept_out_of_caches(
    app: Flask, units: tuple[Unit, Unit], path: str
) -> None:
    with app.app_context():
        create_staff("chef@gendarmerie.interieur.gouv.fr", PASSWORD, ["UNIT-A"], admin=True)
    chief = app.test_client()
    sign_in(chief, "chef@gendarmerie.interieur.gouv.fr")
    page = chief.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_session_cookie_is_hardened(agent: FlaskClient) -> None:
    cookie = agent.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_logout_ends_this_session_even_a_saved_copy_of_its_cookie(
    app: Flask, agent: FlaskClient
) -> None:
    """A logout ends the session it is made from, on the server: a copy of its cookie taken
    before opens nothing. Another device stays signed in (the account page ends it)."""
    saved = agent.get_cookie("session")
    assert saved is not None
    other_device = app.test_client()
    sign_in(other_device, "agent.a@gendarmerie.interieur.gouv.fr")
    assert other_device.get("/staff/").status_code == 200
    agent.post("/staff/logout", data={"csrf_token": token(agent, "/staff/")})
    assert agent.get("/staff/").status_code == 302
    assert other_device.get("/staff/").status_code == 200
    replayed = app.test_client()
    replayed.set_cookie("session", saved.value)  # a copy taken before the logout
    assert replayed.get("/staff/units/UNIT-A/agenda").status_code == 302


def test_a_new_password_ends_the_open_sessions(
    app: Flask, agent: FlaskClient, runner: FlaskCliRunner
) -> None:
    assert agent.get("/staff/").status_code == 200
    result = runner.invoke(
        args=[
            "staff",
            "password",
            "--email",
            "agent.a@gendarmerie.interieur.gouv.fr",
            "--password",
            "un autre mot de passe assez long",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "sessions ouvertes sont fermées" in result.output
    assert agent.get("/staff/").status_code == 302
    assert sign_in(agent, "agent.a@gendarmerie.interieur.gouv.fr").status_code == 401
    welcome = sign_in(
        agent, "agent.a@gendarmerie.interieur.gouv.fr", "un autre mot de passe assez long"
    )
    assert welcome.status_code == 303


# --- the day at the desk ----------------------------------------------------------------


@pytest.fixture
def day(units: tuple[Unit, Unit], create_booking: Callable[..., Booking]) -> list[Booking]:
    """Three visits on Tuesday at unit A, one at unit B."""
    a, b = units
    return [
        create_booking(a, TUESDAY_9 + timedelta(hours=2), name="Zoé Tardive", comment="Vélo volé"),
        create_booking(a, TUESDAY_9, name="Albert Matinal", phone="+33612345678"),
        create_booking(a, TUESDAY_9, reason_code="radicalisation", minutes=60, name="Discret"),
        create_booking(b, TUESDAY_9, name="Bérénice De-Gex"),
    ]


def test_the_agenda_has_a_date_field_next_monday_and_a_column_to_tick_arrivals(
    agent: FlaskClient, day: list[Booking]
) -> None:
    page = agent.get("/staff/units/UNIT-A/agenda?date=2026-11-24").get_data(as_text=True)
    assert re.search(r'type="date" id="date" name="date" value="2026-11-24"', page)
    monday = 'href="/staff/units/UNIT-A/agenda?date=2026-11-30">Lundi prochain'  # today: Mon 23
    assert monday in page
    assert '<th scope="col" class="print-only col-arrivee">Arrivé(e)</th>' in page
    assert page.count('<span class="tick-box"') == 3


def test_the_sign_in_prompt_is_information_not_success(client: FlaskClient) -> None:
    page = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert "Connectez-vous pour accéder à l&#39;espace des agents." in page
    assert "fr-alert--info" in page
    assert "fr-alert--success" not in page


def test_agenda_lists_the_day_in_order_with_details_and_counts(
    agent: FlaskClient, day: list[Booking]
) -> None:
    page = agent.get("/staff/units/UNIT-A/agenda?date=2026-11-24").get_data(as_text=True)
    assert page.index("Albert Matinal") < page.index("Zoé Tardive")
    assert "9 h 00 – 9 h 30" in page
    assert "+33612345678" in page
    assert "Vélo volé" in page
    assert "3 rendez-vous · attendu : 3" in page
    assert "De-Gex" not in page
    assert 'href="/staff/units/UNIT-A/agenda?date=2026-11-23"' in page
    assert 'href="/staff/units/UNIT-A/agenda?date=2026-11-25"' in page


def test_marking_visits_and_cancelling_with_a_reason(
    app: Flask, agent: FlaskClient, day: list[Booking], frozen_now: Callable[[datetime], None]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/agenda?date=2026-11-24")
    ahead = agent.post(
        f"/staff/units/UNIT-A/bookings/{day[1].reference}/visit",
        data={"csrf_token": form, "outcome": "no_show"},
        follow_redirects=True,
    )
    assert "Trop tôt" in ahead.get_data(as_text=True)  # not on Monday for Tuesday
    assert status_of(app, day[1].reference) == "confirmed"
    frozen_now(TUESDAY_9 - timedelta(hours=7))  # 01:00 that day, for an 09:00 visit
    for outcome, said in (("honoured", "à partir de 08:30"), ("no_show", "absent » se note après")):
        page = agent.post(
            f"/staff/units/UNIT-A/bookings/{day[1].reference}/visit",
            data={"csrf_token": form, "outcome": outcome},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert said in page
        assert status_of(app, day[1].reference) == "confirmed"
    frozen_now(TUESDAY_9 - timedelta(minutes=20))  # early, within the margin: seen
    response = agent.post(
        f"/staff/units/UNIT-A/bookings/{day[1].reference}/visit",
        data={"csrf_token": form, "outcome": "honoured"},
    )
    assert response.status_code == 303
    assert status_of(app, day[1].reference) == "honoured"
    frozen_now(TUESDAY_9 + timedelta(minutes=5))
    late, early = day[0], day[1]
    response = agent.post(
        f"/staff/units/UNIT-A/bookings/{early.reference}/visit",
        data={"csrf_token": form, "outcome": "honoured"},
    )
    assert response.status_code == 303
    assert status_of(app, early.reference) == "honoured"
    agent.post(
        f"/staff/units/UNIT-A/bookings/{early.reference}/visit",
        data={"csrf_token": form, "outcome": "no_show"},
    )  # a correction
    assert status_of(app, early.reference) == "no_show"
    short = agent.post(
        f"/staff/units/UNIT-A/bookings/{late.reference}/cancel",
        data={"csrf_token": form, "reason": ""},
        follow_redirects=True,
    )
    assert "Indiquez la raison" in short.get_data(as_text=True)
    assert status_of(app, late.reference) == "confirmed"
    reason = "Enquêteur indisponible ce jour-là"
    agent.post(
        f"/staff/units/UNIT-A/bookings/{late.reference}/cancel",
        data={"csrf_token": form, "reason": reason},
    )
    assert status_of(app, late.reference) == "cancelled_by_unit"
    [message] = [m for m in outbox(app) if m.kind == "cancellation"]
    parsed = rendered(app, message)
    text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Enquêteur indisponible ce jour-là" in text
    assert "http://rdv.test/unites/UNIT-A" in text  # to book again
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert str(Calendar.from_ical(part.get_content())["method"]) == "CANCEL"


def test_agenda_csv_of_the_day(agent: FlaskClient, day: list[Booking]) -> None:
    response = agent.get("/staff/units/UNIT-A/agenda.csv?date=2026-11-24")
    assert response.mimetype == "text/csv"
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("heure;fin;motif;nom;telephone;courriel;commentaire")
    assert len(lines) == 4
    assert lines[1].startswith("09:00;09:30;")
    assert lines[1].endswith(f";attendu;{day[1].reference};à l'unité;en ligne")  # in French


def test_agenda_csv_shows_formulas_as_text(
    agent: FlaskClient, units: tuple[Unit, Unit], create_booking: Callable[..., Booking]
) -> None:
    """A spreadsheet runs a cell starting with = + - @ as a formula: each gets a quote."""
    create_booking(
        units[0],
        TUESDAY_9,
        name='=HYPERLINK("http://evil.example";"clic")',
        phone="+33612345678",
        comment="@SUM(1+1)",
        email="-2+3@example.org",
    )
    response = agent.get("/staff/units/UNIT-A/agenda.csv?date=2026-11-24")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    _, _, _, name, phone, email_address, comment, status, _, _, _ = rows[1]
    assert name == '\'=HYPERLINK("http://evil.example";"clic")'
    assert phone == "'+33612345678"
    assert email_address == "'-2+3@example.org"
    assert comment == "'@SUM(1+1)"
    assert status == "attendu"


# --- settings ---------------------------------------------------------------------------


def hours_form(csrf_token: str, **ranges: tuple[str, str]) -> dict[str, str]:
    """Settings form data: desks 2 and ranges named like h-0-1 (Monday, first range)."""
    data = {"csrf_token": csrf_token, "desks": "2"}
    for name, (start, end) in ranges.items():
        data[f"{name.replace('_', '-')}-start"] = start
        data[f"{name.replace('_', '-')}-end"] = end
    return data


def test_hours_change_shows_in_slots_and_open_data_at_once(
    app: Flask, agent: FlaskClient, units: tuple[Unit, Unit]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = hours_form(form, h_1_1=("13:00", "17:00"), h_7_1=("09:00", "12:00"))
    data["a_partir_du"] = "2026-11-23"  # today: at once
    response = agent.post("/staff/units/UNIT-A/settings", data=data)
    assert response.status_code == 303
    slots = agent.get("/api/v1/units/UNIT-A/slots?motif=otv&from=2026-11-24&to=2026-11-24").json
    assert slots["slots"][0]["start"] == "2026-11-24T13:00:00+01:00"
    monday = agent.get("/api/v1/units/UNIT-A/slots?motif=otv&from=2026-11-30&to=2026-11-30").json
    assert monday["slots"] == []  # Monday now closed
    csv_line = next(
        line
        for line in agent.get("/opendata/units.csv").data.decode().splitlines()
        if line.startswith("UNIT-A;")
    )
    assert ";13h00;17h00;" in csv_line
    with app.app_context():
        assert db.session.scalar(
            select(Unit.hours_edited_locally).where(Unit.public_id == "UNIT-A")
        )


def test_hours_changed_from_next_monday_leave_this_week_s_visits_alone(
    app: Flask, agent: FlaskClient, day: list[Booking], frozen_now: Callable[[datetime], None]
) -> None:
    """Mornings closed from Monday 30 November: Tuesday's 09:00 visits stay, this week's
    slots stay, the unit page and the open data show the hours in force until that day,
    then the job runner makes the new ones the hours in force."""
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = hours_form(form, **{f"h_{d}_1": ("14:00", "18:00") for d in range(5)})
    data["a_partir_du"] = "2026-11-30"
    response = agent.post("/staff/units/UNIT-A/settings", data=data)
    assert response.status_code == 303  # nothing to confirm: no visit from then on is touched
    assert all(status_of(app, b.reference) == "confirmed" for b in day[:3])
    tuesday = agent.get("/api/v1/units/UNIT-A/slots?motif=otv&from=2026-11-24&to=2026-11-24")
    assert tuesday.json["slots"][0]["start"].startswith("2026-11-24T08:")  # mornings still
    monday = agent.get("/api/v1/units/UNIT-A/slots?motif=otv&from=2026-11-30&to=2026-11-30")
    assert monday.json["slots"][0]["start"] == "2026-11-30T14:00:00+01:00"
    settings = agent.get("/staff/units/UNIT-A/settings").get_data(as_text=True)
    assert "Nouveaux horaires à partir du 30/11/2026" in settings
    csv_line = next(
        line
        for line in agent.get("/opendata/units.csv").data.decode().splitlines()
        if line.startswith("UNIT-A;")
    )
    assert ";08h00;12h00;" in csv_line  # the hours in force, until Monday

    frozen_now(datetime(2026, 11, 29, 23, 5, tzinfo=UTC))  # 00:05 on Monday, in Paris
    with app.app_context():
        assert promote_scheduled_hours() == 1
        assert promote_scheduled_hours() == 0
    csv_line = next(
        line
        for line in agent.get("/opendata/units.csv").data.decode().splitlines()
        if line.startswith("UNIT-A;")
    )
    assert ";14h00;18h00;" in csv_line
    assert ";08h00;12h00;" not in csv_line


def test_without_a_date_new_hours_start_the_first_day_they_cancel_nothing(
    app: Flask, agent: FlaskClient, day: list[Booking]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = hours_form(form, **{f"h_{d}_1": ("14:00", "18:00") for d in range(5)})
    data["a_partir_du"] = ""
    done = agent.post("/staff/units/UNIT-A/settings", data=data, follow_redirects=True)
    assert "Horaires enregistrés à partir du 25/11/2026" in done.get_data(as_text=True)
    assert all(status_of(app, b.reference) == "confirmed" for b in day[:3])


def test_bad_hours_are_refused_with_french_messages(agent: FlaskClient, units: object) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    response = agent.post(
        "/staff/units/UNIT-A/settings",
        data=hours_form(
            form, h_0_1=("12:00", "08:00"), h_0_2=("25:00", "26:00"), h_1_1=("09:00", "")
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Lundi, plage 1" in page
    assert "Lundi, plage 2" in page
    assert "Mardi, plage 1" in page


def test_a_wrong_time_is_kept_and_marked_on_its_own_field(
    agent: FlaskClient, units: object
) -> None:
    empty = agent.get("/staff/units/UNIT-A/settings").get_data(as_text=True)
    assert "placeholder" not in empty  # no hours that look real in an empty range
    response = agent.post(
        "/staff/units/UNIT-A/settings",
        data=hours_form(csrf(empty), h_0_1=("08:00", "12h60"), h_2_1=("14:00", "17:00")),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    end = re.search(r"<input[^>]*id=\"h-0-1-end\"[^>]*>", page).group(0)
    start = re.search(r"<input[^>]*id=\"h-0-1-start\"[^>]*>", page).group(0)
    assert 'value="12h60"' in end  # what was typed, kept
    assert 'aria-invalid="true"' in end
    assert "fr-input--error" in end
    assert 'value="08:00"' in start
    assert "aria-invalid" not in start
    assert 'id="h-0-1-error"' in page
    assert "Lundi, plage 1 : heure impossible « 12h60 »" in page
    assert 'href="#h-0-1-end"' in page  # the summary leads to the field
    assert 'id="h-2-1-start" name="h-2-1-start" value="14:00"' in page  # the rest kept too


def test_a_wrong_closure_keeps_what_was_typed(agent: FlaskClient, units: object) -> None:
    page = agent.get("/staff/units/UNIT-A/settings").get_data(as_text=True)
    data = {
        "csrf_token": csrf(page),
        "start": "2026-11-24T10:30",
        "end": "hier",
        "reason": "Formation",
    }
    response = agent.post("/staff/units/UNIT-A/closures", data=data)
    assert response.status_code == 422
    answer = response.get_data(as_text=True)
    assert 'value="2026-11-24T10:30"' in answer
    assert 'value="Formation"' in answer
    end = re.search(r"<input[^>]*id=\"end\"[^>]*>", answer).group(0)
    assert 'aria-invalid="true"' in end
    assert "Fin de la fermeture : date et heure attendues" in answer


def test_hours_change_lists_affected_visits_then_cancels_them_once_confirmed(
    app: Flask, agent: FlaskClient, day: list[Booking]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = hours_form(form, **{f"h_{d}_1": ("10:30", "18:00") for d in range(5)})
    data["a_partir_du"] = "2026-11-24"  # Tuesday, the day of the visits
    preview = agent.post("/staff/units/UNIT-A/settings", data=data)
    page = preview.get_data(as_text=True)
    assert "Ce changement annule 2 rendez-vous" in page  # the two at 09:00; 11:00 still fits
    assert "à partir du <strong>24/11/2026</strong>" in page
    assert "Appliquer les nouveaux horaires à partir du 25/11/2026" in page  # nothing cancelled
    assert "Albert Matinal" in page
    assert "Zoé Tardive" not in page
    assert status_of(app, day[1].reference) == "confirmed"  # nothing done yet
    agent.post("/staff/units/UNIT-A/settings", data={**data, "confirm": "1"})
    assert status_of(app, day[1].reference) == "cancelled_by_unit"
    assert status_of(app, day[0].reference) == "confirmed"
    assert len([m for m in outbox(app) if m.kind == "cancellation"]) == 2


def test_fewer_desks_cancel_the_latest_booked_over_the_new_number(
    app: Flask, agent: FlaskClient, day: list[Booking]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = {
        **hours_form(form, **{f"h_{d}_1": ("08:00", "12:00") for d in range(5)}),
        "desks": "1",
        "confirm": "1",
        "a_partir_du": "2026-11-23",
    }
    agent.post("/staff/units/UNIT-A/settings", data=data)
    # Albert (booked first) keeps 09:00; the discreet visit booked after him loses it.
    assert status_of(app, day[1].reference) == "confirmed"
    assert status_of(app, day[2].reference) == "cancelled_by_unit"


def test_closure_cancels_the_visits_inside_it_after_confirmation(
    app: Flask, agent: FlaskClient, day: list[Booking]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/settings")
    data = {
        "csrf_token": form,
        "start": "2026-11-24T10:30",
        "end": "2026-11-24T18:00",
        "reason": "Formation de l'équipe",
    }
    preview = agent.post("/staff/units/UNIT-A/closures", data=data).get_data(as_text=True)
    assert "Ce changement annule 1 rendez-vous" in preview
    assert "Zoé Tardive" in preview
    agent.post("/staff/units/UNIT-A/closures", data={**data, "confirm": "1"})
    assert status_of(app, day[0].reference) == "cancelled_by_unit"
    slots = agent.get("/api/v1/units/UNIT-A/slots?motif=otv&from=2026-11-24&to=2026-11-24").json
    assert slots["slots"][-1]["start"] < "2026-11-24T10:30"
    page = agent.get("/staff/units/UNIT-A/settings").get_data(as_text=True)
    closure_id = re.search(r"/closures/(\d+)/delete", page).group(1)
    agent.post(f"/staff/units/UNIT-A/closures/{closure_id}/delete", data={"csrf_token": csrf(page)})
    assert "Aucune fermeture prévue" in agent.get("/staff/units/UNIT-A/settings").get_data(
        as_text=True
    )


# --- calendar feed and audit ------------------------------------------------------------


def test_calendar_feed_is_read_only_neutral_and_revocable(
    agent: FlaskClient, day: list[Booking]
) -> None:
    form = token(agent, "/staff/units/UNIT-A/agenda")
    page = agent.post("/staff/units/UNIT-A/feed", data={"csrf_token": form}).get_data(as_text=True)
    address = re.search(r'value="(http://[^"]+agenda\.ics\?token=[^"]+)"', page).group(1)
    path = address.removeprefix("http://localhost")
    anonymous = FlaskClient(agent.application, use_cookies=False)
    feed = anonymous.get(path)
    assert feed.status_code == 200
    calendar = Calendar.from_ical(feed.data)
    assert str(calendar["method"]) == "PUBLISH"
    text = feed.data.decode()
    assert "Albert" not in text
    assert "Zoé" not in text
    assert "radicalisation" not in text.lower()
    assert "Rendez-vous à la gendarmerie" in text
    assert len(calendar.walk("VEVENT")) == 3
    other_unit = path.replace("UNIT-A", "UNIT-B")
    assert anonymous.get(other_unit).status_code == 404  # A's secret does not open B
    agent.post("/staff/units/UNIT-A/feed", data={"csrf_token": form})  # regenerate
    assert anonymous.get(path).status_code == 404
    agent.post("/staff/units/UNIT-A/feed/revoke", data={"csrf_token": form})
    assert anonymous.get(path).status_code == 404


def test_every_change_is_in_the_audit_log_for_administrators_only(
    app: Flask, client: FlaskClient, day: list[Booking], frozen_now: Callable[[datetime], None]
) -> None:
    frozen_now(TUESDAY_9)
    sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr")
    form = token(client, "/staff/units/UNIT-A/agenda")
    client.post(
        f"/staff/units/UNIT-A/bookings/{day[1].reference}/visit",
        data={"csrf_token": form, "outcome": "honoured"},
    )
    client.post(
        f"/staff/units/UNIT-A/bookings/{day[0].reference}/cancel",
        data={"csrf_token": form, "reason": "Absence imprévue"},
    )
    assert client.get("/staff/audit").status_code == 404
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    actions = [(e.actor_email, e.action, e.target) for e in entries if e.unit_id]
    assert actions == [
        ("agent.a@gendarmerie.interieur.gouv.fr", "visite", day[1].reference),
        ("agent.a@gendarmerie.interieur.gouv.fr", "annulation par l'unité", day[0].reference),
    ]
    assert '"honoured"' in entries[-2].after
    assert '"confirmed"' in entries[-2].before
    client.post("/staff/logout", data={"csrf_token": form})
    sign_in(client, "admin@gendarmerie.interieur.gouv.fr")
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "Absence imprévue" in page
    assert "agent.a@gendarmerie.interieur.gouv.fr" in page


def test_a_deactivated_account_loses_its_open_session(
    app: Flask, client: FlaskClient, units: tuple[Unit, Unit]
) -> None:
    sign_in(client, "agent.a@gendarmerie.interieur.gouv.fr")
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    assert client.get("/staff/").status_code == 302


@pytest.mark.usefixtures("units")
def test_passwords_use_owasp_scrypt_and_older_hashes_are_redone_at_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    assert (
        load_config(app.instance_path, {"APP_ENV": "development"})["PASSWORD_HASH_METHOD"]
        == "scrypt:131072:8:1"
    )  # N = 2^17, r = 8, p = 1 (OWASP's cheat sheet)
    account = "agent.a@gendarmerie.interieur.gouv.fr"
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == account))
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt:4096:8:1")
        db.session.commit()
    assert sign_in(client, account).status_code == 303
    with app.app_context():
        stored = db.session.scalar(
            select(StaffUser.password_hash).where(StaffUser.email == account)
        )
    assert stored.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert sign_in(app.test_client(), account).status_code == 303  # still the same password

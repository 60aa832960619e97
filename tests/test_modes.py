"""Phone and video appointments (SPEC §12): each mode within its own capacity, a phone
number required and checked for `phone`, a secret room for `video` shown to its citizen and
to the unit's own staff only, the channel recorded."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from icalendar import Calendar
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from booking.db_rules import is_overbooking
from booking.extensions import db
from booking.models import Booking, OutboxMessage, Reason, StaffUser, Unit
from booking.services.staff.accounts import create_staff
from booking.services.staff.agenda import new_feed_token
from booking.services.staff.api_keys import issue_key
from tests.support.mail import rendered, text_of
from tests.support.staff import PASSWORD, csrf, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00+01:00"
PROVIDER = "https://visio.example.org"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"VIDEO_ROOM_URL": PROVIDER}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk and one remote line; the clock at Monday 07:00 in Paris."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1, remote_lines=1)


def body(**overrides: Any) -> dict[str, Any]:
    """A booking request by video for a reason that allows it, changed by keyword."""
    values = {
        "unit_id": "ORNEX",
        "motif": "signalement",
        "mode": "video",
        "start": TUESDAY_10,
        "name": "Camille Martin",
        "email": "camille@example.org",
    }
    return values | overrides


def the_booking(app: Flask, reference: str) -> Booking:
    with app.app_context():
        found = db.session.scalar(select(Booking).where(Booking.reference == reference))
        assert found is not None
        db.session.expunge(found)
        return found


def emails(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def starts(client: FlaskClient, mode: str, motif: str = "signalement") -> list[str]:
    answer = client.get(
        f"/api/v1/units/ORNEX/slots?motif={motif}&mode={mode}&from=2026-11-24&to=2026-11-24"
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["mode"] == mode
    return [slot["start"] for slot in answer.json["slots"]]


def test_reasons_list_their_modes(app: Flask, client: FlaskClient) -> None:
    modes = {motif["code"]: motif["modes"] for motif in client.get("/api/v1/motifs").json}
    assert modes["signalement"] == ["on_site", "phone", "video"]
    assert modes["remise_arme"] == ["on_site"]  # a weapon is handed in at the desk


def test_each_mode_counts_against_its_own_capacity(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    assert TUESDAY_10 in [s for s in starts(client, "video")]
    assert client.post("/api/v1/bookings", json=body()).status_code == 201
    # The line is taken at 10:00, by phone as by video; the desk is still free.
    assert "2026-11-24T10:00:00+01:00" not in starts(client, "phone")
    assert "2026-11-24T10:00:00+01:00" in starts(client, "on_site")
    refused = client.post("/api/v1/bookings", json=body(mode="phone", phone="0612345678"))
    assert refused.status_code == 409
    on_site = client.post("/api/v1/bookings", json=body(mode="on_site", email="b@example.org"))
    assert on_site.status_code == 201
    assert on_site.json["mode"] == "on_site"


def test_a_unit_without_lines_offers_no_remote_slot(
    app: Flask, client: FlaskClient, create_unit: Callable[..., Unit], unit: Unit
) -> None:
    create_unit(public_id="SANS-LIGNE", desks=2)
    answer = client.get("/api/v1/units/SANS-LIGNE/slots?motif=signalement&mode=phone")
    assert answer.status_code == 200
    assert answer.json["slots"] == []
    refused = client.post(
        "/api/v1/bookings", json=body(unit_id="SANS-LIGNE", mode="phone", phone="0612345678")
    )
    assert refused.status_code == 409


def test_a_mode_the_reason_does_not_allow_is_refused_in_french(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    answer = client.get("/api/v1/units/ORNEX/slots?motif=remise_arme&mode=video")
    assert answer.status_code == 409  # a business answer: the document allows the pair
    assert answer.json["error"] == "mode_unavailable"
    assert answer.json["fields"]["mode"] == "Ce motif ne se traite pas en visio."
    booked = client.post("/api/v1/bookings", json=body(motif="remise_arme"))
    assert booked.status_code == 409
    assert "mode" in booked.json["fields"]
    unknown = client.get("/api/v1/units/ORNEX/slots?motif=signalement&mode=fax")
    assert unknown.status_code == 422
    assert "mode" in unknown.json["fields"]


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("", "Indiquez le numéro où l'unité vous appellera"),
        ("06 12 34", "Numéro de téléphone français invalide"),
        ("+1 202 555 0100", "Numéro de téléphone français invalide"),
    ],
)
def test_a_phone_appointment_needs_a_valid_number(
    app: Flask, client: FlaskClient, unit: Unit, phone: str, message: str
) -> None:
    answer = client.post("/api/v1/bookings", json=body(mode="phone", phone=phone))
    assert answer.status_code == 422
    assert answer.json["fields"]["phone"].startswith(message)
    with app.app_context():
        assert db.session.scalar(select(Booking.id)) is None  # nothing half-written


def test_a_phone_appointment_says_the_unit_calls_and_gives_no_address(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    answer = client.post("/api/v1/bookings", json=body(mode="phone", phone="06 12 34 56 78"))
    assert answer.status_code == 201, answer.json
    assert answer.json["mode"] == "phone"
    assert the_booking(app, answer.json["reference"]).phone == "+33612345678"
    message = rendered(app, emails(app)[0])
    text = text_of(message)
    assert "L'unité vous appellera à l'heure du rendez-vous au 06 12 34 56 78" in text
    assert "124 Rue de Béjoud" not in text  # nowhere to go
    calendar = ics_of(message)
    event = calendar.walk("VEVENT")[0]
    assert "téléphone" in str(event["LOCATION"])
    assert "Béjoud" not in str(event["LOCATION"])
    assert "GEO" not in event


def ics_of(message: Any) -> Calendar:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no invitation")


def test_the_room_is_shown_to_its_citizen_and_its_unit_only(
    app: Flask,
    client: FlaskClient,
    unit: Unit,
    create_unit: Callable[..., Unit],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = client.post("/api/v1/bookings", json=body())
    assert answer.status_code == 201, answer.json
    booking = the_booking(app, answer.json["reference"])
    room = booking.video_room
    assert len(room) >= 32
    assert booking.reference not in room
    assert str(booking.id) != room
    link = f"{PROVIDER}/{room}"
    # The citizen: the email (text, HTML), the invitation (CONFERENCE, description), the
    # manage page.
    message = rendered(app, emails(app)[0])
    assert link in text_of(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert link in str(html.get_content())
    event = ics_of(message).walk("VEVENT")[0]
    assert str(event["CONFERENCE"]) == link
    assert list(event["CONFERENCE"].params["FEATURE"]) == ["AUDIO", "VIDEO"]
    assert link in str(event["DESCRIPTION"])
    manage = client.get(answer.json["cancel_url"].removeprefix("http://rdv.test"))
    assert link in manage.text
    assert f"connect-src 'self' {PROVIDER}" in manage.headers["Content-Security-Policy"]
    # The unit's own staff, on the agenda.
    agent = staff_client(app, "agent@gendarmerie.interieur.gouv.fr", "ORNEX")
    agenda = agent.get("/staff/units/ORNEX/agenda?date=2026-11-24")
    assert link in agenda.text
    # Nothing else: the public API, the answer itself, the unit's feed, the open data,
    # another unit's agenda, the logs.
    assert room not in answer.get_data(as_text=True)
    create_unit(public_id="AUTRE", remote_lines=1)
    other = staff_client(app, "autre@gendarmerie.interieur.gouv.fr", "AUTRE")
    assert room not in other.get("/staff/units/AUTRE/agenda?date=2026-11-24").text
    assert other.get("/staff/units/ORNEX/agenda?date=2026-11-24").status_code == 404
    public = [
        "/api/v1/units/ORNEX",
        "/api/v1/units/ORNEX/slots?motif=signalement&mode=video",
        "/api/v1/units?q=Ornex",
        "/opendata/units.csv",
        "/opendata/units.geojson",
    ]
    for path in public:
        assert room not in client.get(path).get_data(as_text=True), path
    with app.app_context():
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email.startswith("agent@")))
        token = new_feed_token(staff, db.session.get(Unit, unit.id))
    feed = client.get(f"/staff/units/ORNEX/agenda.ics?token={token}")
    assert feed.status_code == 200
    assert booking.reference in feed.text
    assert "SUMMARY:En visio – " in feed.text  # the desk knows it is a call…
    assert room not in feed.text  # …but the feed holds no room
    assert room not in caplog.text


def staff_client(app: Flask, mail: str, unit_id: str) -> FlaskClient:
    """A client signed in as an agent of one unit."""
    with app.app_context():
        create_staff(mail, PASSWORD, [unit_id])
    client = app.test_client()
    assert sign_in(client, mail).status_code == 303
    return client


def test_a_moved_booking_keeps_its_room_and_a_cancelled_one_loses_it(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    answer = client.post("/api/v1/bookings", json=body())
    reference = answer.json["reference"]
    room = the_booking(app, reference).video_room
    token = answer.json["cancel_url"].rsplit("token=", 1)[1]
    with app.app_context():
        from booking.services.bookings.change import cancel_by_citizen, move_booking

        moved = move_booking(reference, token, "2026-11-24T11:00:00+01:00")
        assert moved.video_room == room
        cancelled = cancel_by_citizen(reference, token)
        assert cancelled.video_room == ""
    page = client.get(answer.json["cancel_url"].removeprefix("http://rdv.test"))
    assert room not in page.text
    cancellation = rendered(app, emails(app)[-1])
    assert room not in text_of(cancellation)


def test_the_join_button_opens_fifteen_minutes_before(
    app: Flask, client: FlaskClient, unit: Unit, frozen_now: Callable[[datetime], None]
) -> None:
    answer = client.post("/api/v1/bookings", json=body())
    path = answer.json["cancel_url"].removeprefix("http://rdv.test")
    assert "Rejoindre la visio" not in client.get(path).text
    frozen_now(datetime(2026, 11, 24, 8, 44, tzinfo=UTC))  # 09:44 in Paris
    assert "Rejoindre la visio" not in client.get(path).text
    frozen_now(datetime(2026, 11, 24, 8, 45, tzinfo=UTC))
    assert "Rejoindre la visio" in client.get(path).text


def test_the_channel_is_recorded(app: Flask, client: FlaskClient, unit: Unit) -> None:
    online = client.post("/api/v1/bookings", json=body(mode="on_site"))
    with app.app_context():
        admin = create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
        _, key = issue_key(admin, "Association d'aide aux victimes")
    partner = client.post(
        "/api/v1/bookings",
        json=body(mode="on_site", email="p@example.org", start="2026-11-24T11:00:00+01:00"),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert partner.status_code == 201, partner.json
    assert the_booking(app, online.json["reference"]).channel == "online"
    assert the_booking(app, partner.json["reference"]).channel == "partner_api"


def test_fewer_lines_than_booked_is_refused_with_the_visits(
    app: Flask,
    client: FlaskClient,
    unit: Unit,
    runner: FlaskCliRunner,
    create_booking: Callable[..., Booking],
) -> None:
    client.get("/")  # the app is up
    answer = client.post("/api/v1/bookings", json=body())
    reference = answer.json["reference"]
    refused = runner.invoke(args=["units", "set", "ORNEX", "--remote-lines", "0"])
    assert refused.exit_code == 1
    assert "1 rendez-vous déjà pris ne tiendraient plus sur 0 lignes à distance" in refused.output
    assert reference in refused.output
    assert "24/11/2026 10:00" in refused.output
    # The desks are another capacity: lowering them is not refused by a video visit.
    done = runner.invoke(args=["units", "set", "ORNEX", "--desks", "1", "--remote-lines", "2"])
    assert done.exit_code == 0, done.output
    assert "1 guichet(s), 2 ligne(s)" in done.output
    with app.app_context():
        assert db.session.scalar(select(Unit.remote_lines).where(Unit.id == unit.id)) == 2
    # And the database itself refuses it, whatever code writes (its clock is the real one:
    # a visit in its future).
    create_booking(unit, datetime(2099, 12, 1, 9, 0, tzinfo=UTC), mode="phone")
    create_booking(unit, datetime(2099, 12, 1, 9, 0, tzinfo=UTC), mode="video")

    def one_line() -> None:
        db.session.execute(update(Unit).where(Unit.id == unit.id).values(remote_lines=1))
        db.session.commit()

    with app.app_context():
        with pytest.raises(DBAPIError) as error:
            one_line()
        db.session.rollback()
    assert is_overbooking(error.value)


def test_units_set_refuses_numbers_out_of_range(
    app: Flask, unit: Unit, runner: FlaskCliRunner
) -> None:
    refused = runner.invoke(args=["units", "set", "ORNEX", "--remote-lines", "-1"])
    assert refused.exit_code == 1
    assert "entre 0 et 50" in refused.output
    unknown = runner.invoke(args=["units", "set", "NULLE-PART", "--desks", "2"])
    assert unknown.exit_code == 1
    assert "Aucune unité" in unknown.output


def test_the_next_slot_of_a_search_takes_the_mode(
    app: Flask, client: FlaskClient, unit: Unit, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="SANS-LIGNE", desks=1, commune="Ornex")
    found = client.get("/api/v1/units?department=01&motif=signalement&mode=phone").json
    nexts = {item["id"]: item["next_slot"] for item in found["items"]}
    assert nexts["ORNEX"] is not None
    assert nexts["SANS-LIGNE"] is None  # no remote line
    on_site = client.get("/api/v1/units?department=01&motif=signalement").json
    assert all(item["next_slot"] is not None for item in on_site["items"])


def test_the_web_form_of_a_phone_appointment_needs_a_number_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    query = "motif=signalement&mode=phone"
    start = {"debut": TUESDAY_10}
    page = client.get(f"/unites/ORNEX/rendez-vous?{query}&{urlencode(start)}")
    assert page.status_code == 200
    assert "L'unité vous appellera à ce numéro" in html.unescape(page.text)
    sent = client.post(
        f"/unites/ORNEX/rendez-vous?{query}",
        data={
            "csrf_token": csrf(page.text),
            "debut": TUESDAY_10,
            "name": "Camille Martin",
            "email": "camille@example.org",
            "comment": "Appeler sur le portable",
        },
    )
    assert sent.status_code == 422
    text = html.unescape(sent.text)
    assert "Indiquez le numéro où l'unité vous appellera" in text
    assert 'value="Camille Martin"' in text
    assert "Appeler sur le portable" in text
    with app.app_context():
        assert db.session.scalar(select(Booking.id)) is None


def test_a_booking_whose_mode_is_withdrawn_can_still_be_seen_and_cancelled(
    app: Flask, client: FlaskClient, unit: Unit
) -> None:
    answer = client.post("/api/v1/bookings", json=body())
    path = answer.json["cancel_url"].removeprefix("http://rdv.test")
    with app.app_context():
        reason = db.session.get(Reason, "signalement")
        reason.modes = "on_site"  # the reasons' file reloaded without video
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 200
    assert "Annuler ce rendez-vous" in page.text
    token = answer.json["cancel_url"].rsplit("token=", 1)[1]
    cancelled = client.post(
        f"/api/v1/bookings/{answer.json['reference']}/cancel", json={"token": token}
    )
    assert cancelled.status_code == 200

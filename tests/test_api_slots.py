"""`/api/v1/motifs`, `/api/v1/units/{id}/slots` and `next_slot` in searches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, BookingStatus, Closure, Unit
from booking.services.reasons import get_reason
from booking.services.slots.offered import all_first_slots, first_slots

# Monday 23 November 2026, 07:00 in Paris (UTC+1).
MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit open on weekdays 8–12 and 14–18, two desks; the clock at Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=2)


def starts(client: FlaskClient, query: str) -> list[tuple[str, int]]:
    """(start, available) of every slot answered."""
    response = client.get(f"/api/v1/units/ORNEX/slots?{query}")
    assert response.status_code == 200, response.json
    return [(slot["start"], slot["available"]) for slot in response.json["slots"]]


def test_motifs_are_the_default_list(client: FlaskClient) -> None:
    motifs = client.get("/api/v1/motifs").json
    assert [motif["code"] for motif in motifs] == [
        "faits_auteur_connu",
        "signalement",
        "cybermalveillance",
        "otv",
        "otec",
        "radicalisation",
        "remise_arme",
    ]
    radicalisation = motifs[5]
    assert radicalisation["discreet"] is True
    assert radicalisation["duration_minutes"] == 60
    assert all(motif["documents"] for motif in motifs)


@pytest.mark.usefixtures("unit")
def test_slots_of_a_day_with_notice_and_local_offsets(client: FlaskClient) -> None:
    body = client.get("/api/v1/units/ORNEX/slots?motif=signalement&from=2026-11-23&to=2026-11-23")
    assert body.json["unit_id"] == "ORNEX"
    assert body.json["motif"] == "signalement"
    assert body.json["timezone"] == "Europe/Paris"
    slots = body.json["slots"]
    # 07:00 + 2 h notice: the morning starts at 09:00; 30-minute slots back to back.
    # (One line per half-day, kept as written: it reads better than one time a line.)
    assert [slot["start"][11:16] for slot in slots] == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
        "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00", "17:30",
    ]  # fmt: skip
    assert slots[0] == {
        "start": "2026-11-23T09:00:00+01:00",
        "end": "2026-11-23T09:30:00+01:00",
        "available": 2,
    }


@pytest.mark.usefixtures("unit")
def test_sixty_minute_reason_never_crosses_the_range_end(client: FlaskClient) -> None:
    found = starts(client, "motif=cybermalveillance&from=2026-11-24&to=2026-11-24")
    # (One line for the day, kept as written: it reads better than one time a line.)
    assert [start[11:16] for start, _ in found] == [
        "08:00", "09:00", "10:00", "11:00", "14:00", "15:00", "16:00", "17:00",
    ]  # fmt: skip


def test_bookings_take_places_and_cancelled_ones_free_them(
    client: FlaskClient, unit: Unit, create_booking: Callable[..., Booking]
) -> None:
    ten = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    create_booking(unit, ten, minutes=60)
    create_booking(unit, ten + timedelta(minutes=30), minutes=30)
    create_booking(unit, ten, minutes=60, status=BookingStatus.CANCELLED_BY_CITIZEN)
    found = dict(starts(client, "motif=signalement&from=2026-11-24&to=2026-11-24"))
    assert found["2026-11-24T09:30:00+01:00"] == 2
    assert found["2026-11-24T10:00:00+01:00"] == 1  # one booking in progress
    assert "2026-11-24T10:30:00+01:00" not in found  # both desks taken
    assert found["2026-11-24T11:00:00+01:00"] == 2
    hours = dict(starts(client, "motif=cybermalveillance&from=2026-11-24&to=2026-11-24"))
    assert "2026-11-24T10:00:00+01:00" not in hours  # its second half is full


def test_closures_remove_slots(
    client: FlaskClient, unit: Unit, create_closure: Callable[..., Closure]
) -> None:
    create_closure(
        unit, datetime(2026, 11, 24, 13, 0, tzinfo=UTC), datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    )
    found = [start[:16] for start, _ in starts(client, "motif=otv&from=2026-11-24&to=2026-11-26")]
    assert "2026-11-24T11:30" in found  # before the closure
    assert "2026-11-24T14:00" not in found  # 13:00 UTC is 14:00 in Paris
    assert not [start for start in found if start.startswith("2026-11-25")]
    assert "2026-11-26T08:00" in found


@pytest.mark.usefixtures("unit")
def test_default_period_is_today_to_horizon(client: FlaskClient) -> None:
    found = starts(client, "motif=signalement")
    assert found[0][0] == "2026-11-23T09:00:00+01:00"
    assert found[-1][0] == "2026-12-21T17:30:00+01:00"  # Monday 23 Nov + 28 days
    assert "2026-12-25" not in {start[:10] for start, _ in found}  # beyond the horizon anyway


@pytest.mark.usefixtures("unit")
def test_public_holiday_without_holiday_hours_is_closed(
    client: FlaskClient, frozen_now: Callable[[datetime], None]
) -> None:
    frozen_now(datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    days = {start[:10] for start, _ in starts(client, "motif=otv&from=2026-12-24&to=2026-12-28")}
    assert days == {"2026-12-24", "2026-12-28"}  # Friday 25th is Christmas, 26–27 a weekend


def test_overseas_unit_answers_in_its_own_offset(
    client: FlaskClient, create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]
) -> None:
    frozen_now(MONDAY_7AM)  # 10:00 in Réunion
    create_unit(public_id="REUNION", department="974")
    body = client.get("/api/v1/units/REUNION/slots?motif=otv&from=2026-11-23&to=2026-11-23").json
    assert body["timezone"] == "Indian/Reunion"
    assert body["slots"][0]["start"] == "2026-11-23T14:00:00+04:00"  # 12:00 + notice → afternoon


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("query", "status", "error", "field"),
    [
        ("", 422, "invalid", "motif"),  # the reason is required
        ("motif=inconnu", 404, "motif_not_found", None),
        ("motif=otv&from=2026-13-01", 422, "invalid", "from"),  # no 13th month
        ("motif=otv&from=demain", 422, "invalid", "from"),
        ("motif=otv&to=2026-11-2", 422, "invalid", "to"),  # not YYYY-MM-DD
    ],
)
def test_bad_requests_get_a_clear_answer(
    client: FlaskClient, query: str, status: int, error: str, field: str | None
) -> None:
    response = client.get(f"/api/v1/units/ORNEX/slots?{query}")
    assert response.status_code == status
    assert response.json["error"] == error
    if field:
        assert field in response.json["fields"]
        assert response.json["fields"][field]


@pytest.mark.usefixtures("unit")
def test_unknown_unit_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/units/NOPE/slots?motif=otv")
    assert response.status_code == 404
    assert response.json["error"] == "unit_not_found"


def test_search_shows_each_units_next_slot(
    client: FlaskClient,
    unit: Unit,
    create_unit: Callable[..., Unit],
    create_closure: Callable[..., Closure],
) -> None:
    create_unit(public_id="GEX", commune="Gex", hours={2: [(840, 1080)]})  # Wednesdays only
    closed = create_unit(public_id="FERMEE", commune="Ferney")
    create_closure(closed, MONDAY_7AM, MONDAY_7AM + timedelta(days=60))
    body = client.get("/api/v1/units?motif=otv").json
    next_slots = {item["id"]: item["next_slot"] for item in body["items"]}
    assert next_slots["ORNEX"]["start"] == "2026-11-23T09:00:00+01:00"
    assert next_slots["GEX"]["start"] == "2026-11-25T14:00:00+01:00"
    assert next_slots["FERMEE"] is None
    without = client.get("/api/v1/units").json
    assert all(item["next_slot"] is None for item in without["items"])
    bad = client.get("/api/v1/units?motif=inconnu")
    assert bad.status_code == 422
    assert bad.json["fields"]["motif"] == "motif inconnu"


def test_all_units_at_once_gives_the_same_first_slots(
    app: Flask,
    unit: Unit,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    create_closure: Callable[..., Closure],
) -> None:
    gex = create_unit(public_id="GEX", hours={2: [(840, 1080)]}, desks=1)
    create_booking(gex, datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # its first slot, taken
    create_closure(unit, MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
    create_unit(public_id="CLOSED", active=False)
    with app.app_context():
        reason = get_reason("otv")
        units = list(db.session.scalars(select(Unit).where(Unit.active.is_(True))))
        expected = first_slots(units, reason)
        found = all_first_slots(reason)
    assert found == expected
    assert len(found) == 2
    assert found[gex.id].start.isoformat() == "2026-11-25T14:30:00+01:00"


@pytest.mark.usefixtures("unit")
def test_periods_hold_only_the_slots_of_their_dates_within_the_horizon(
    client: FlaskClient,
) -> None:
    inverted = client.get("/api/v1/units/ORNEX/slots?motif=otv&from=2026-11-30&to=2026-11-24")
    assert inverted.status_code == 200
    assert inverted.json["slots"] == []  # no date lies between them
    long = client.get("/api/v1/units/ORNEX/slots?motif=otv&from=2026-11-23&to=2027-01-31")
    assert long.status_code == 200
    days = {slot["start"][:10] for slot in long.json["slots"]}
    assert max(days) <= "2026-12-21"  # Monday 23 November + 28 days: the horizon
    assert min(days) == "2026-11-23"


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=0001-01-01", "horizon"),  # the first year of the calendar: from today
        ("from=9999-12-31", "none"),  # its last day: beyond the horizon
        ("to=0001-01-01", "none"),  # ending before today
        ("to=9999-12-31", "horizon"),  # ending after the horizon
        ("from=0001-01-01&to=9999-12-31", "horizon"),  # the whole calendar
        ("from=9999-12-31&to=0001-01-01", "none"),  # reversed
        ("from=2026-12-31&to=2026-11-24", "none"),  # reversed, inside the horizon
        ("from=2026-11-23&to=2027-11-23", "horizon"),  # a year long
    ],
)
def test_any_date_of_the_calendar_is_answered(
    client: FlaskClient, query: str, expected: str
) -> None:
    """Years 1 to 9999, reversed or a year long: an answer, never a 5xx."""
    horizon = starts(client, "motif=signalement")
    assert horizon
    found = starts(client, f"motif=signalement&{query}")
    assert found == (horizon if expected == "horizon" else [])


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize("day", ["0000-01-01", "2026-02-30", "10000-01-01", "2026-1-1", "-1"])
def test_a_date_the_calendar_lacks_is_a_422(client: FlaskClient, day: str) -> None:
    for name in ("from", "to"):
        answer = client.get(f"/api/v1/units/ORNEX/slots?motif=signalement&{name}={day}")
        assert answer.status_code == 422
        assert answer.json["fields"]

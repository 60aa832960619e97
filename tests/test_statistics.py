"""Public statistics (SPEC §14): the job runner's figures against a hand count, on both
engines; weeks in Paris time; small per-unit counts masked; discreet reasons never per
unit; the daily delay to the first free slot; the CSV and its Table Schema."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from frictionless import Resource, Schema, validate
from sqlalchemy import delete, insert, select, update

from booking.domain.figures import PARIS, HourWeeks, instant_week, quantile, shown
from booking.extensions import db
from booking.models import (
    Booking,
    BookingStatus,
    Closure,
    OrientationCount,
    OutboxMessage,
    SlotDelay,
    Unit,
    WeeklyFigure,
)
from booking.services.statistics import csv_rows, figures, measure_delays, refresh_figures
from booking.services.statistics.delays import MEASURE_HOUR, measure_if_missed
from tests.support.runners import Runners
from tests.support.smtp import SmtpServer, wait_for

# Wednesday 2 December 2026, 11:00 in Paris: ISO week 49. Week 47 began on Monday 16
# November, week 48 on Monday 23 November.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
MONDAY_W47 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def rows_of(app: Flask) -> dict[tuple[str, str, str], str]:
    """The CSV's rows as the open data publishes them, by (week, indicator, dimension)."""
    with app.app_context():
        return {(week, ind, dim): value for week, ind, dim, value in csv_rows()}


def served_csv(client: FlaskClient) -> dict[tuple[str, str, str], str]:
    """`/statistiques.csv` as a client reads it, by (week, indicator, dimension)."""
    response = client.get("/statistiques.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    reader = csv.reader(io.StringIO(response.get_data(as_text=True)))
    assert next(reader) == ["week", "indicator", "dimension", "value"]
    return {(week, ind, dim): value for week, ind, dim, value in reader}


def refresh(app: Flask, now: datetime = NOW) -> int:
    """The job runner's refresh, at `now`."""
    with app.app_context():
        return refresh_figures(now)


# Twelve visits of week 48 and one still to come, all booked on Monday of week 47, half an
# hour apart (one desk: never two at once): (lead in days, status, channel, mode, reason).
HAND_COUNTED: list[tuple[int, str, str, str, str]] = [
    (7, "honoured", "online", "on_site", "signalement"),
    (7, "honoured", "online", "on_site", "signalement"),
    (7, "honoured", "online", "phone", "signalement"),
    (8, "honoured", "online", "on_site", "otv"),
    (8, "honoured", "online", "on_site", "otv"),
    (8, "honoured", "staff", "on_site", "radicalisation"),  # a discreet reason
    (9, "honoured", "staff", "on_site", "signalement"),
    (9, "no_show", "staff", "phone", "signalement"),
    (9, "no_show", "invitation", "on_site", "otv"),
    (10, "no_show", "invitation", "on_site", "otv"),
    (10, "cancelled_by_citizen", "partner_api", "on_site", "otv"),
    (10, "cancelled_by_unit", "partner_api", "on_site", "otv"),
    (20, "confirmed", "waitlist", "video", "signalement"),  # on 6 December, after NOW
]


@pytest.fixture
def counted(create_unit: Callable[..., Unit], create_booking: Callable[..., Booking]) -> Unit:
    """The unit of HAND_COUNTED, with a hold and an expired hold that count nowhere, and a
    visit made discreet by the citizen."""
    unit = create_unit(public_id="COMPTE", desks=1, remote_lines=1)
    for n, (lead, status, channel, mode, reason) in enumerate(HAND_COUNTED):
        made = MONDAY_W47 + n * HALF_HOUR
        create_booking(
            unit,
            made + timedelta(days=lead),
            status=status,
            channel=channel,
            mode=mode,
            reason_code=reason,
            created_at=made,
            discreet=n == 0,  # counted everywhere but per unit
        )
    for n, status in enumerate((BookingStatus.PENDING, BookingStatus.EXPIRED)):
        made = MONDAY_W47 + timedelta(hours=10 + n)
        create_booking(unit, made + timedelta(days=8), status=status, created_at=made)
    return unit


@pytest.mark.usefixtures("counted")
def test_figures_and_the_csv_agree_with_a_hand_count(app: Flask, client: FlaskClient) -> None:
    refresh(app)
    expected = {
        ("2026-W47", "bookings_by_channel", "online"): "5",
        ("2026-W47", "bookings_by_channel", "staff"): "3",
        ("2026-W47", "bookings_by_channel", "invitation"): "2",
        ("2026-W47", "bookings_by_channel", "partner_api"): "2",
        ("2026-W47", "bookings_by_channel", "waitlist"): "1",
        ("2026-W47", "bookings_by_mode", "on_site"): "10",
        ("2026-W47", "bookings_by_mode", "phone"): "2",
        ("2026-W47", "bookings_by_mode", "video"): "1",
        # 7,7,7,8,8,8,9,9,9,10,10,10,20: the 7th value; 90 %: rank 10.8 of 0..12, between
        # the 11th and the 12th values (10 and 10).
        ("2026-W47", "lead_days_p50", ""): "9",
        ("2026-W47", "lead_days_p90", ""): "10",
        # 13 made, less the discreet reason and the visit made discreet.
        ("2026-W47", "unit_bookings", "COMPTE"): "11",
        ("2026-W48", "visits_by_outcome", "honoured"): "7",
        ("2026-W48", "visits_by_outcome", "no_show"): "3",
        ("2026-W48", "visits_by_outcome", "cancelled_by_citizen"): "1",
        ("2026-W48", "visits_by_outcome", "cancelled_by_unit"): "1",
        ("2026-W48", "no_show_rate", ""): "0.3",  # 3 / (7 + 3)
    }
    assert rows_of(app) == expected
    assert served_csv(client) == expected
    with app.app_context():
        found = figures(weeks=3, unit="COMPTE", now=NOW)
        national = figures(weeks=3, now=NOW)
    assert found.weeks == ["2026-W47", "2026-W48", "2026-W49"]
    assert found.computed_at == NOW
    assert found.series["no_show_rate"][""]["2026-W48"].value == 0.3
    assert found.series["unit_bookings"]["COMPTE"]["2026-W47"].value == 11
    assert "unit_bookings" not in national.series  # every unit's are the CSV's
    assert {
        (week, indicator, dimension): shown(cell.value, cell.masked)
        for indicator, by_dimension in found.series.items()
        for dimension, cells in by_dimension.items()
        for week, cell in cells.items()
    } == expected


def test_the_visits_are_those_whose_start_is_past(
    app: Flask, counted: Unit, create_booking: Callable[..., Booking]
) -> None:
    """A visit marked before it starts (a cancellation) counts once its start is past."""
    create_booking(
        counted,
        NOW + timedelta(hours=2),
        status=BookingStatus.CANCELLED_BY_CITIZEN,
        created_at=NOW - timedelta(days=1),
    )
    refresh(app)
    assert rows_of(app)[("2026-W49", "bookings_by_channel", "online")] == "1"
    assert ("2026-W49", "visits_by_outcome", "cancelled_by_citizen") not in rows_of(app)
    refresh(app, NOW + timedelta(hours=3))
    assert rows_of(app)[("2026-W49", "visits_by_outcome", "cancelled_by_citizen")] == "1"
    assert ("2026-W49", "no_show_rate", "") not in rows_of(app)  # nobody came or missed


def test_small_counts_per_unit_are_masked_and_discreet_reasons_never_per_unit(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> None:
    def book(unit: Unit, reasons: list[str]) -> None:
        for n, reason in enumerate(reasons):
            made = MONDAY_W47 + n * HALF_HOUR
            create_booking(unit, made + timedelta(days=3), reason_code=reason, created_at=made)

    book(create_unit(public_id="PETITE"), ["signalement"] * 3)
    book(create_unit(public_id="CINQ"), ["otv"] * 5 + ["radicalisation"])
    book(create_unit(public_id="DISCRETE"), ["radicalisation"] * 6)
    refresh(app)
    published = served_csv(client)
    assert published[("2026-W47", "unit_bookings", "PETITE")] == "< 5"
    assert published[("2026-W47", "unit_bookings", "CINQ")] == "5"  # its discreet visit left out
    assert not [key for key in published if "DISCRETE" in key[2]]
    assert published[("2026-W47", "bookings_by_channel", "online")] == "15"  # all counted
    with app.app_context():
        stored = db.session.scalars(
            select(WeeklyFigure).where(WeeklyFigure.dimension == "PETITE")
        ).one()
        cell = figures(weeks=3, unit="PETITE", now=NOW).series["unit_bookings"]["PETITE"]
    assert (stored.value, stored.masked) == (0.0, True)  # the count itself is not kept
    assert cell["2026-W47"].masked
    assert cell["2026-W47"].value == 0.0


@pytest.mark.parametrize(
    ("instant", "week"),
    [
        # Sunday 29 November 23:30 in Paris (22:30 UTC): still week 48.
        (datetime(2026, 11, 29, 22, 30, tzinfo=UTC), "2026-W48"),
        # Monday 30 November 00:30 in Paris is Sunday 23:30 UTC: week 49 already.
        (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "2026-W49"),
        # In summer (UTC+2), Monday 1 June 01:30 in Paris is Sunday 23:30 UTC: week 23.
        (datetime(2026, 5, 31, 23, 30, tzinfo=UTC), "2026-W23"),
        # Monday 1 June 00:30 in Paris is still Sunday 31 May 22:30 UTC.
        (datetime(2026, 5, 31, 22, 30, tzinfo=UTC), "2026-W23"),
        (datetime(2026, 5, 31, 21, 59, tzinfo=UTC), "2026-W22"),
        # 1 January 2027 is a Friday: week 53 of 2026.
        (datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "2026-W53"),
    ],
)
def test_weeks_are_iso_weeks_in_paris_time(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    instant: datetime,
    week: str,
) -> None:
    """The same instant, made a booking, an email sent and a visit, on either engine."""
    assert instant_week(instant) == week
    assert HourWeeks()[instant.strftime("%Y-%m-%d %H")] == week
    unit = create_unit(public_id="MINUIT")
    create_booking(
        unit, instant, status=BookingStatus.HONOURED, created_at=instant - timedelta(days=10)
    )
    create_booking(unit, instant + timedelta(days=3), created_at=instant)
    with app.app_context():
        db.session.execute(
            insert(OutboxMessage).values(
                kind="confirmation", recipient="x@example.org", created_at=instant, sent_at=instant
            )
        )
        db.session.commit()
    refresh(app, datetime(2027, 1, 20, tzinfo=UTC))
    rows = rows_of(app)
    assert rows[(week, "bookings_by_channel", "online")] == "1"
    assert rows[(week, "visits_by_outcome", "honoured")] == "1"
    assert rows[(week, "emails_sent", "")] == "1"


def test_the_delay_to_the_first_slot_follows_closures_and_bookings(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    create_closure: Callable[..., Closure],
) -> None:
    # Monday 23 November 2026, 07:00 in Paris: two hours' notice, the first slot at 09:00.
    monday = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    unit = create_unit(public_id="ORNEX", department="01")
    create_unit(public_id="LYON", department="69", hours={2: [(600, 720)]})  # Wednesdays 10–12
    create_unit(public_id="FERMEE", department="69", hours={})  # no slot at all
    create_unit(public_id="ANCIENNE", department="69", active=False)

    def measured(now: datetime) -> dict[str, SlotDelay]:
        with app.app_context():
            measure_delays(now)
            rows = db.session.scalars(
                select(SlotDelay).where(
                    SlotDelay.reason_code == "otv", SlotDelay.measured_on == date(2026, 11, 23)
                )
            ).all()
        return {row.department: row for row in rows}

    first = measured(monday)
    assert first["01"].median_days == round(2 / 24, 2)  # 09:00 Paris, two hours later
    assert (first["69"].units, first["69"].units_without) == (2, 1)
    assert first["69"].median_days == round((2 * 24 + 3) / 24, 2)  # Wednesday 10:00 Paris
    assert (first[""].units, first[""].units_without) == (3, 1)  # France: three active units
    assert first[""].median_days == round((2 / 24 + (2 * 24 + 3) / 24) / 2, 2)
    # Closed on Monday and Tuesday, and Wednesday's first hour booked: Wednesday 09:00 Paris.
    create_closure(unit, monday, monday + timedelta(days=2))
    wednesday_8 = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    create_booking(unit, wednesday_8, reason_code="otv")
    create_booking(unit, wednesday_8 + HALF_HOUR, reason_code="otv")
    again = measured(monday)  # the same morning measured again: replaced, not added
    assert again["01"].median_days == round((2 * 24 + 2) / 24, 2)
    assert again["01"].p90_days == again["01"].median_days  # one unit
    assert (again[""].units, again[""].units_without) == (3, 1)
    with app.app_context():
        # Tuesday's and Wednesday's measures: the week's figure is the median of the days'.
        measure_delays(monday + timedelta(days=1))
        measure_delays(monday + timedelta(days=2))
        days = db.session.scalars(
            select(SlotDelay.median_days)
            .where(SlotDelay.department == "01", SlotDelay.reason_code == "otv")
            .order_by(SlotDelay.measured_on)
        ).all()
        refresh_figures(monday + timedelta(days=2))
        latest = figures(weeks=1, now=monday + timedelta(days=2))
    assert days[0] == 2.08
    assert days[1] == round(26 / 24, 2)  # Tuesday 07:00 → Wednesday 09:00 Paris
    assert days[2] == round(2 / 24, 2)  # Wednesday 07:00 → 09:00 Paris
    # Each département's week in the open data; France's on the page as well.
    assert rows_of(app)[("2026-W48", "first_slot_days", "01|otv")] == "1.1"  # 2.08, 1.08, 0.08
    assert ("2026-W48", "first_slot_days", "69|otv") in rows_of(app)
    assert set(latest.series["first_slot_days"]) == {
        f"|{code}" for code in ("faits_auteur_connu", "signalement", "cybermalveillance")
    } | {f"|{code}" for code in ("otv", "otec", "radicalisation", "remise_arme")}
    # France: (2.08 + 2.125) / 2, (1.08 + 1.125) / 2, (0.08 + 0.125) / 2: the middle one.
    assert latest.series["first_slot_days"]["|otv"]["2026-W48"].value == 1.1
    assert latest.delays_measured_on == date(2026, 11, 25)
    assert {row.department for row in latest.latest_delays} == {"", "01", "69"}


def test_a_missed_morning_is_measured_when_the_runner_takes_the_lead(
    app: Flask, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="ORNEX")
    five_am = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 05:00 in Paris: not yet
    with app.app_context():
        assert measure_if_missed(five_am) == 0
        assert measure_if_missed(five_am + timedelta(hours=4)) > 0
        assert measure_if_missed(five_am + timedelta(hours=5)) == 0  # done for the day


def test_settled_weeks_are_kept_when_their_sources_are_purged(
    app: Flask, counted: Unit, create_booking: Callable[..., Booking]
) -> None:
    """Emails and waiting-list offers of old visits are deleted with the personal data;
    their weeks' figures stay. A week that may still change follows its sources; a week
    settled (ended 35 days ago) is never computed again."""
    old, recent = NOW - timedelta(days=70), NOW - timedelta(days=1)
    visit = create_booking(
        counted, old, status=BookingStatus.HONOURED, created_at=old - timedelta(days=3)
    )
    with app.app_context():
        for sent in (old, old, recent, recent):
            db.session.execute(
                insert(OutboxMessage).values(
                    kind="reminder", recipient="x@example.org", created_at=sent, sent_at=sent
                )
            )
        db.session.add(OrientationCount(day=date(2026, 11, 30), outcome="plainte", count=4))
        db.session.commit()
    refresh(app)
    before = rows_of(app)
    assert before[("2026-W39", "emails_sent", "")] == "2"
    assert before[("2026-W49", "emails_sent", "")] == "2"
    assert before[("2026-W49", "orientation_outcomes", "plainte")] == "4"
    assert before[("2026-W39", "visits_by_outcome", "honoured")] == "1"
    assert refresh(app) == 0  # nothing changed: nothing written
    with app.app_context():
        db.session.execute(delete(OutboxMessage))  # the purge
        db.session.execute(
            update(Booking).where(Booking.id == visit.id).values(status=BookingStatus.NO_SHOW)
        )
        # A visit of week 48 marked again: week 48 is still open.
        db.session.execute(
            update(Booking)
            .where(Booking.status == BookingStatus.NO_SHOW)
            .values(status=BookingStatus.HONOURED)
        )
        db.session.commit()
    refresh(app)
    after = rows_of(app)
    assert after[("2026-W39", "emails_sent", "")] == "2"  # settled: kept
    assert after[("2026-W39", "visits_by_outcome", "honoured")] == "1"
    assert after[("2026-W49", "emails_sent", "")] == "2"  # no source left that week: kept
    assert after[("2026-W48", "visits_by_outcome", "honoured")] == "10"
    assert ("2026-W48", "visits_by_outcome", "no_show") not in after
    assert after[("2026-W48", "no_show_rate", "")] == "0"


def test_emails_sent_retried_and_failed(app: Flask) -> None:
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    emails: list[dict[str, Any]] = [
        {"sent_at": monday, "attempts": 1},
        {"sent_at": monday + timedelta(days=7), "attempts": 3},  # written in 48, sent in 49
        {"dropped_at": monday + timedelta(days=8), "attempts": 6},
        {"attempts": 2},  # still trying: neither sent, retried nor failed yet
    ]
    with app.app_context():
        for email in emails:
            db.session.execute(
                insert(OutboxMessage).values(
                    kind="confirmation", recipient="x@example.org", created_at=monday, **email
                )
            )
        db.session.commit()
    refresh(app)
    rows = rows_of(app)
    assert rows[("2026-W48", "emails_sent", "")] == "1"
    assert rows[("2026-W49", "emails_sent", "")] == "1"
    assert rows[("2026-W48", "emails_retried", "")] == "2"
    assert rows[("2026-W49", "emails_failed", "")] == "1"


@pytest.mark.usefixtures("counted")
def test_the_csv_validates_against_its_schema_and_is_in_the_data_package(
    app: Flask, client: FlaskClient, create_unit: Callable[..., Unit], tmp_path: Path
) -> None:
    small = create_unit(public_id="PETITE")
    with app.app_context():
        db.session.execute(
            update(Booking).where(Booking.id == 1).values(unit_id=small.id, discreet=False)
        )
        db.session.add(OrientationCount(day=date(2026, 11, 30), outcome="plainte", count=2))
        db.session.commit()
    refresh(app)
    body = client.get("/statistiques.csv").data
    assert b"< 5" in body
    (tmp_path / "statistiques.csv").write_bytes(body)
    schema = client.get("/opendata/statistiques.schema.json").json
    report = validate(
        Resource(
            path="statistiques.csv", basepath=str(tmp_path), schema=Schema.from_descriptor(schema)
        )
    )
    assert report.flatten(["rowNumber", "fieldName", "type"]) == []
    assert report.stats["tasks"] == 1
    bad = body.replace(b"2026-W48,no_show_rate", b"2026-48,no_show_rate")
    (tmp_path / "statistiques.csv").write_bytes(bad)
    report = validate(
        Resource(
            path="statistiques.csv", basepath=str(tmp_path), schema=Schema.from_descriptor(schema)
        )
    )
    assert [error[1:] for error in report.flatten(["rowNumber", "fieldName", "type"])] == [
        ["week", "constraint-error"]
    ]
    package = client.get("/opendata/datapackage.json").json
    resources = {resource["name"]: resource for resource in package["resources"]}
    assert resources["statistiques"]["path"].endswith("/statistiques.csv")
    assert resources["unites"]["path"].endswith("/opendata/units.csv")
    assert resources["statistiques"]["schema"].endswith("/opendata/statistiques.schema.json")
    assert resources["statistiques"]["dialect"]["delimiter"] == ","


@pytest.mark.usefixtures("counted")
def test_the_csv_answers_conditional_gets_until_the_next_refresh(
    app: Flask, client: FlaskClient
) -> None:
    refresh(app)
    first = client.get("/statistiques.csv")
    etag = first.headers["ETag"]
    assert client.get("/statistiques.csv", headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        db.session.execute(
            update(Booking).where(Booking.status == "no_show").values(status="honoured")
        )
        db.session.commit()
    refresh(app, NOW + timedelta(minutes=5))
    again = client.get("/statistiques.csv", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert b"2026-W48,no_show_rate,,0\r\n" in again.data


@pytest.mark.usefixtures("counted")
def test_no_personal_data_in_the_figures(app: Flask, client: FlaskClient) -> None:
    refresh(app)
    body = client.get("/statistiques.csv").get_data(as_text=True)
    assert "Camille" not in body
    assert "@" not in body
    with app.app_context():
        references = db.session.scalars(select(Booking.reference)).all()
    assert not [reference for reference in references if reference in body]


def test_the_commands_refresh_and_measure(
    app: Flask,
    runner: FlaskCliRunner,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
) -> None:
    frozen_now(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    create_unit(public_id="ORNEX")
    measured = runner.invoke(args=["statistics", "measure"])
    assert measured.exit_code == 0, measured.output
    assert "Délais mesurés : 14 lignes" in measured.output  # 7 reasons × (01, France)
    refreshed = runner.invoke(args=["statistics", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "Statistiques recalculées : 14 chiffres écrits." in refreshed.output
    assert rows_of(app)[("2026-W48", "first_slot_days", "|otv")] == "0.1"


def test_the_job_runner_computes_the_figures_when_it_takes_the_lead(
    app: Flask,
    database_uri: str,
    tmp_path: Path,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
) -> None:
    """`flask jobs run` as a real process, on the real clock: the figures at once (then
    every five minutes), and this morning's delays if 06:00 in Paris is past."""
    made = create_booking(create_unit(public_id="ORNEX"), datetime.now(UTC) + timedelta(days=3))
    smtp = SmtpServer()
    smtp.start()
    started = Runners(database_uri, tmp_path, smtp)
    try:
        started.start("runner")

        def computed() -> bool:
            with app.app_context():
                return figures(weeks=1).computed_at is not None

        wait_for(computed, timeout=30)
        if datetime.now(PARIS).hour >= MEASURE_HOUR:

            def measured() -> bool:
                with app.app_context():
                    return figures(weeks=1).delays_measured_on == datetime.now(PARIS).date()

            wait_for(measured, timeout=30)
    finally:
        started.stop_all()
        smtp.stop()
    assert rows_of(app)[(instant_week(made.created_at), "bookings_by_channel", "online")] == "1"


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([4.0], 0.9, 4.0),  # one value: itself
        ([1.0, 2.0], 0.5, 1.5),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9, 9.1),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 0.9, 10.0),
    ],
)
def test_quantiles_interpolate_between_ranks(
    values: list[float], share: float, expected: float
) -> None:
    assert quantile(values, share) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "masked", "written"),
    [(12.0, False, "12"), (0.3, False, "0.3"), (0.0, True, "< 5"), (2.25, False, "2.25")],
)
def test_values_are_written_as_the_open_data_reads_them(
    value: float, masked: bool, written: str
) -> None:
    assert shown(value, masked) == written


def test_the_page_reads_nothing_but_the_tables(app: Flask, counted: Unit) -> None:
    """Before the runner computed anything, there is nothing to show, whatever the
    bookings: the page never computes."""
    with app.app_context():
        found = figures(weeks=4, now=NOW)
        assert db.session.scalar(select(Unit.public_id).where(Unit.id == counted.id)) == "COMPTE"
    assert found.series == {}
    assert found.computed_at is None
    assert found.latest_delays == []
    assert found.weeks == ["2026-W46", "2026-W47", "2026-W48", "2026-W49"]


@pytest.mark.usefixtures("counted")
def test_the_page_shows_the_hand_count_in_both_languages(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_booking: Callable[..., Booking],
    frozen_now: Callable[[datetime], None],
) -> None:
    """What the page's tables say, read as a person reads them: 7 honoured, 3 no-shows, a
    30 % rate; a unit with 3 bookings shows "< 5"."""
    small = create_unit(public_id="PETITE")
    for n in range(3):
        made = MONDAY_W47 + timedelta(hours=n)
        create_booking(small, made + timedelta(days=3), created_at=made)
    refresh(app)
    frozen_now(NOW)
    html = client.get("/statistiques?lang=fr").get_data(as_text=True)
    outcomes = html[html.index('id="issues-legende"') :]
    start = outcomes.index('<th scope="row">2026-W48</th>')
    row = outcomes[start : outcomes.index("</tr>", start)]
    assert row.split("<td>")[1:] == ["7</td>", "3</td>", "1</td>", "1</td>"]
    rate = html[html.index('id="absences-legende"') :]
    assert "30,0 %" in rate[: rate.index("</table>")]
    english = client.get("/statistiques?lang=en").get_data(as_text=True)
    assert "30.0 %" in english[english.index('id="absences-legende"') :]
    unit = client.get("/statistiques?unite=PETITE&lang=fr").get_data(as_text=True)
    table = unit[unit.index("Rendez-vous pris à l'unité PETITE") :]
    assert "<td>&lt; 5</td>" in table[: table.index("</table>")]
    assert "<td>3</td>" not in table[: table.index("</table>")]

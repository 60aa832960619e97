"""Kept slot answers never outlive a change, whoever makes it (the database counts them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from booking.extensions import db
from booking.models import Unit

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TUESDAY = "/api/v1/units/ORNEX/slots?motif=otv&from=2026-11-24&to=2026-11-24"
TEN = "2026-11-24T10:00:00+01:00"
BODY = {
    "unit_id": "ORNEX",
    "motif": "otv",
    "start": TEN,
    "name": "Camille",
    "email": "c@example.org",
}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """One desk; the clock stays at Monday 07:00 for the whole test (one cache minute)."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX", desks=1)


def starts(client: FlaskClient) -> list[str]:
    """Offered starts on Tuesday."""
    return [slot["start"] for slot in client.get(TUESDAY).json["slots"]]


@pytest.mark.usefixtures("unit")
def test_answers_are_kept_while_nothing_changes(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import booking.web.api as api

    calls = []
    original = api.answer_slots
    monkeypatch.setattr(api, "answer_slots", lambda *a, **k: calls.append(1) or original(*a, **k))
    first, second = client.get(TUESDAY), client.get(TUESDAY)
    assert first.data == second.data
    assert len(calls) == 1


@pytest.mark.usefixtures("unit")
def test_a_booking_and_its_cancellation_show_at_once(client: FlaskClient) -> None:
    assert TEN in starts(client)
    body = {
        "unit_id": "ORNEX",
        "motif": "otv",
        "start": TEN,
        "name": "Camille",
        "email": "c@example.org",
    }
    created = client.post("/api/v1/bookings", json=body).json
    assert TEN not in starts(client)
    token = created["cancel_url"].split("token=")[1]
    client.post(f"/api/v1/bookings/{created['reference']}/cancel", json={"token": token})
    assert TEN in starts(client)


def test_a_change_written_behind_the_apps_back_shows_too(
    app: Flask, client: FlaskClient, unit: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's write is seen at the next revalidation (here: every request)."""
    monkeypatch.setattr("booking.services.slots.cache.REVALIDATE_SECONDS", 0.0)
    assert TEN in starts(client)
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO closures (unit_id, starts_at, ends_at, reason, created_at)"
                " VALUES (:u, :s, :e, 'Travaux', :s)"
            ),
            {"u": unit.id, "s": datetime(2026, 11, 24, 8, 30), "e": datetime(2026, 11, 24, 10, 0)},
        )
        db.session.commit()
    assert TEN not in starts(client)  # 09:30–11:00 in Paris is closed
    with app.app_context():
        db.session.execute(text("DELETE FROM opening_ranges WHERE unit_id = :u"), {"u": unit.id})
        db.session.commit()
    assert starts(client) == []


def test_a_booking_forgets_the_answers_of_its_own_unit_only(
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    frozen_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import booking.web.api as api

    frozen_now(MONDAY_7AM)
    for name in ("ORNEX", "GEX"):
        create_unit(public_id=name, desks=1)
    rendered: list[str] = []
    original = api.answer_slots
    monkeypatch.setattr(
        api,
        "answer_slots",
        lambda public_id, *a, **k: rendered.append(public_id) or original(public_id, *a, **k),
    )
    gex = TUESDAY.replace("ORNEX", "GEX")
    client.get(TUESDAY)
    client.get(gex)
    body = {**BODY}
    headers = {"Idempotency-Key": "une-seule-fois"}  # its bookkeeping deletes old keys too
    assert client.post("/api/v1/bookings", json=body, headers=headers).status_code == 201
    assert TEN not in starts(client)  # ORNEX computed again…
    client.get(gex)  # …GEX still kept
    assert rendered == ["ORNEX", "GEX", "ORNEX"]


def test_a_unit_and_day_not_asked_before_cost_one_statement(
    app: Flask,
    client: FlaskClient,
    create_unit: Callable[..., Unit],
    create_closure: Callable[..., Any],
    frozen_now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unit, its hours and version, the reason and the day's occupancy in one read; a
    kept answer older than a second costs the version's read alone."""
    frozen_now(MONDAY_7AM)
    unit = create_unit(public_id="ORNEX", desks=1)
    create_closure(
        unit, datetime(2026, 11, 24, 8, 30, tzinfo=UTC), datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    )
    statements = driver_statements(app)
    first = client.get(TUESDAY).json["slots"]
    assert len(statements) == 1
    assert TEN not in [slot["start"] for slot in first]  # the closure was read with it
    assert "2026-11-24T11:00:00+01:00" in [slot["start"] for slot in first]
    monkeypatch.setattr("booking.services.slots.cache.REVALIDATE_SECONDS", 0.0)
    assert client.get(TUESDAY).json["slots"] == first
    assert len(statements) == 2  # the version, unchanged: the answer kept


def test_the_lone_read_gives_the_rows_a_transaction_gives(
    app: Flask,
    create_unit: Callable[..., Unit],
    create_closure: Callable[..., Any],
    create_booking: Callable[..., Any],
) -> None:
    """The slots' read, straight to the driver outside any transaction (autocommit on
    PostgreSQL, no BEGIN on SQLite), gives the rows and values the same statement gives
    through SQLAlchemy inside one (instants aware and in UTC, on both engines), for every
    kind of row it returns."""
    from booking.database import read_alone, run
    from booking.services.slots import read

    unit = create_unit(public_id="ORNEX", desks=2)
    create_closure(
        unit, datetime(2026, 11, 24, 8, 30, tzinfo=UTC), datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    )
    create_booking(unit, datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    params = {
        "public_id": "ORNEX",
        "motif": "otv",
        "now": MONDAY_7AM,
        "start": datetime(2026, 11, 23, tzinfo=UTC),
        "end": datetime(2026, 11, 26, tzinfo=UTC),
        "moved": 0,
        "capacity": "desks",
    }
    with app.app_context():
        alone = [tuple(row) for row in read_alone(read._UNIT_DAYS, params)]
        db.session.remove()
        db.session.begin()
        in_transaction = [tuple(row) for row in run(read._UNIT_DAYS, params)]
        db.session.rollback()
    assert alone == in_transaction
    kinds = {row[0] for row in alone}
    assert kinds == {read._UNIT, read._HOURS, read._CLOSURE, read._BOOKING}
    instants = [value for row in alone for value in row if isinstance(value, datetime)]
    assert len(instants) >= 5
    assert all(
        value.utcoffset() is not None and value.utcoffset().total_seconds() == 0
        for value in instants
    )


def driver_statements(app: Flask) -> list[str]:
    """The statements the database driver is given from now on, counted below SQLAlchemy
    (the slots' read goes straight to the driver's cursor): the pool is emptied, and each
    new connection reports what it runs. SQLite tells its own BEGIN and ROLLBACK apart."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    engine.dispose()

    if engine.dialect.name == "sqlite":

        def connected(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.set_trace_callback(
                lambda sql: seen.append(sql) if sql.lstrip().upper().startswith("SELECT") else None
            )

    else:
        import psycopg

        class Counting(psycopg.Cursor[Any]):
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                if str(query).lstrip().upper().startswith("SELECT"):
                    seen.append(str(query))
                return super().execute(query, *args, **kwargs)

        def connected(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.cursor_factory = Counting

    event.listen(engine, "connect", connected)
    return seen


def test_an_unknown_unit_or_reason_is_told_apart(
    client: FlaskClient, create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]
) -> None:
    frozen_now(MONDAY_7AM)
    create_unit(public_id="ORNEX", desks=1, active=True)
    create_unit(public_id="FERMEE", desks=1, active=False)
    assert (
        client.get(TUESDAY.replace("motif=otv", "motif=inconnu")).json["error"] == "motif_not_found"
    )
    for unit in ("NOPE", "FERMEE"):
        answer = client.get(TUESDAY.replace("ORNEX", unit).replace("motif=otv", "motif=inconnu"))
        assert answer.status_code == 404
        assert answer.json["error"] == "unit_not_found"

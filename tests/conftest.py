"""Fixtures: an app on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from booking import create_app
from booking.domain.text import fold
from booking.domain.zones import unit_timezone
from booking.extensions import db
from booking.models import Booking, BookingStatus, Closure, OpeningRange, Unit
from booking.services.reasons import load_reasons
from tests.support.keys import SECRET_KEY
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped at the end."""
    server = os.environ["TEST_DATABASE_URL"]
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=DATABASES)
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the test's app keeps its data."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Settings a test module changes (override this fixture)."""
    return {}


@pytest.fixture(scope="session")
def schemas_made() -> set[str]:
    """The server databases whose tables this run has made (and that still hold them)."""
    return set()


@pytest.fixture
def app(
    database_uri: str, tmp_path: Path, app_overrides: dict[str, Any], schemas_made: set[str]
) -> Iterator[Flask]:
    """An application on an empty database with every table, its rules and counters.

    A SQLite database is a new file for each test. The PostgreSQL one is shared by the run:
    its tables are made once, then emptied for each test (TRUNCATE, identities restarted),
    which costs a tenth of making them again; a test that dropped them (the migrations')
    gets them made anew."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "BASE_URL": "http://rdv.test",
            # A lighter scrypt than production's (N = 2^17): tests create many accounts;
            # tests/test_staff.py checks the default and the rehash on sign-in.
            "PASSWORD_HASH_METHOD": "scrypt:16384:8:1",
            # Bookings confirmed at once, as most tests expect; the default (a hold confirmed
            # from the email) is tested in tests/test_email_verification.py and
            # tests/test_mailbox_limit.py, which turn it back on.
            "BOOKING_EMAIL_VERIFICATION": False,
            # Staff sessions that outlast the days tests move the clock across; the defaults
            # (30 minutes idle, 12 hours in all) are tested in tests/test_staff_sessions.py.
            "STAFF_IDLE_MINUTES": 60 * 24 * 365,
            "STAFF_SESSION_HOURS": 24 * 365,
            **app_overrides,
        }
    )
    with app.app_context():
        if database_uri in schemas_made and _tables_intact():
            _empty_every_table()
        else:
            db.drop_all()
            db.create_all()
            if not database_uri.startswith("sqlite"):
                schemas_made.add(database_uri)
        load_reasons()
    yield app
    with app.app_context():
        db.session.remove()
        if database_uri.startswith("sqlite"):
            db.drop_all()
        db.engine.dispose()


def _tables_intact() -> bool:
    """Whether every table of the models is still there (a test may have dropped them)."""
    present = set(db.inspect(db.engine).get_table_names())
    return set(db.metadata.tables) <= present


def _empty_every_table() -> None:
    """PostgreSQL: every table emptied at once, its identities back to 1."""
    names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server (aiosmtpd on a free port), stopped at the end; a module sends
    its emails there by naming it in its `app_overrides`."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner of the app's commands."""
    return app.test_cli_runner()


WEEKDAYS_8_TO_12_14_TO_18 = {day: [(480, 720), (840, 1080)] for day in range(5)}


@pytest.fixture
def create_unit(app: Flask) -> Callable[..., Unit]:
    """Factory of units, committed; keyword arguments override the defaults."""

    def create(**overrides: Any) -> Unit:
        hours = overrides.pop("hours", WEEKDAYS_8_TO_12_14_TO_18)
        values: dict[str, Any] = {
            "public_id": f"T{uuid.uuid4().hex[:8]}",
            "name": "Gendarmerie - Brigade de Ornex",
            "address": "124 Rue de Béjoud 01210 ORNEX",
            "street": "124 Rue de Béjoud",
            "postcode": "01210",
            "commune": "Ornex",
            "insee": "01281",
            "department": "01",
            "latitude": 46.27591,
            "longitude": 6.09523,
            "phone": "+33 4 50 40 59 30",
            "email": "bta.ornex@gendarmerie.interieur.gouv.fr",
            "url": "",
        }
        values.update(overrides)
        values.setdefault("timezone", unit_timezone(values["department"]).key)
        values["search_key"] = fold(f"{values['name']} {values['commune']}")
        with app.app_context():
            unit = Unit(**values)
            unit.opening_ranges = [
                OpeningRange(weekday=day, start_minute=start, end_minute=end)
                for day, ranges in hours.items()
                for start, end in ranges
            ]
            db.session.add(unit)
            db.session.commit()
            db.session.refresh(unit)
            db.session.expunge(unit)
        return unit

    return create


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the service's current instant."""

    def freeze(instant: datetime) -> None:
        monkeypatch.setattr("booking.clock.now", lambda: instant)

    return freeze


@pytest.fixture
def create_booking(app: Flask) -> Callable[..., Booking]:
    """Factory of bookings written straight to the database."""

    def create(unit: Unit, start: datetime, minutes: int = 30, **overrides: Any) -> Booking:
        key = uuid.uuid4().hex
        values: dict[str, Any] = {
            "reference": key[:8].upper(),
            "unit_id": unit.id,
            "reason_code": "signalement",
            "starts_at": start,
            "ends_at": start + timedelta(minutes=minutes),
            "status": BookingStatus.CONFIRMED,
            "name": "Camille Martin",
            "email": f"{key[:6]}@example.org",
            "token_hash": key,
            "ics_uid": f"{key}@rdv.test",
        }
        values.update(overrides)
        with app.app_context():
            booking = Booking(**values)
            db.session.add(booking)
            db.session.commit()
            db.session.refresh(booking)
            db.session.expunge(booking)
        return booking

    return create


@pytest.fixture
def create_closure(app: Flask) -> Callable[..., Closure]:
    """Factory of exceptional closures."""

    def create(unit: Unit, start: datetime, end: datetime, reason: str = "Travaux") -> Closure:
        with app.app_context():
            closure = Closure(unit_id=unit.id, starts_at=start, ends_at=end, reason=reason)
            db.session.add(closure)
            db.session.commit()
            db.session.refresh(closure)
            db.session.expunge(closure)
        return closure

    return create

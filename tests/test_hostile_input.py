"""Odd and hostile input: a clear 4xx, never a 500, nothing written, nothing personal logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from booking import create_app
from booking.extensions import db
from booking.models import Booking, Unit
from booking.services.staff.accounts import create_staff
from tests.support.staff import PASSWORD, sign_in

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
UGLY = [
    "\x00",  # NUL: PostgreSQL refuses it in text
    "a\x00b",
    "\x1b[31m",  # a terminal escape
    "\x7f",
    "\u0085",  # a C1 control (NEXT LINE)
    "\ud800",  # a lone surrogate (only JSON can carry one)
    "x" * 5000,
    "é" * 300,
    "' OR 1=1 --",
    "../../etc/passwd",
    "{{7*7}}<script>alert(1)</script>",
    "9" * 40,
    "-1",
    "\u202e",  # right-to-left override
]
FIELDS = [
    "name",
    "email",
    "phone",
    "comment",
    "token",
    "start",
    "debut",
    "motif",
    "reason",
    "outcome",
    "date",
    "desks",
    "q",
    "near",
    "page",
    "semaine",
    "password",
    "h-0-1-start",
    "h-0-1-end",
    "end",
    "confirm",
    "website",
    "unit_id",
    "from",
    "to",
    "limit",
    "offset",
    "department",
    "postcode",
]
REQUEST = {
    "unit_id": "ORNEX",
    "motif": "otv",
    "start": "2026-11-24T10:00:00+01:00",
    "name": "Camille Secrète",
    "email": "camille.secrete@example.org",
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Limits off (the fuzzer sends thousands of requests); CSRF off, to reach the views."""
    return {"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit; Monday 07:00."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX")


def routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route but static files."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def quoted(value: str) -> str:
    """Percent-encoded UTF-8 (a lone surrogate becomes bytes that are not UTF-8 at all)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def path_of(rule: str, value: str) -> str:
    """The rule with every variable part set to `value` (integers to 1)."""
    for part in rule.split("<")[1:]:
        variable = part.split(">")[0]
        rule = rule.replace(f"<{variable}>", "1" if variable.startswith("int:") else quoted(value))
    return rule


def requests_of(method: str, rule: str, value: str) -> list[dict[str, Any]]:
    """The value everywhere: in the path and every field of the query; for a POST, in every
    field of a form and of a JSON body too."""
    path = path_of(rule, value)
    query = "&".join(f"{field}={quoted(value)}" for field in FIELDS)
    found: list[dict[str, Any]] = [{"path": f"{path}?{query}", "method": method}]
    if method == "POST":
        form = dict.fromkeys(FIELDS, value.replace("\ud800", "?"))  # forms travel as UTF-8
        body = json.dumps(dict.fromkeys(FIELDS, value))  # JSON escapes the surrogate
        found.append({"path": path, "method": "POST", "data": form})
        found.append(
            {"path": path, "method": "POST", "data": body, "content_type": "application/json"}
        )
    return found


def bookings(app: Flask) -> int:
    """How many bookings the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count(Booking.id))) or 0


@pytest.mark.usefixtures("unit")
def test_every_route_answers_odd_bytes_without_a_server_error(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with app.app_context():
        create_staff("admin@gendarmerie.interieur.gouv.fr", PASSWORD, [], admin=True)
    sign_in(client, "admin@gendarmerie.interieur.gouv.fr")  # staff routes too, past the login
    caplog.set_level(logging.INFO)
    answers: dict[int, int] = {}
    for method, rule in routes(app):
        for value in UGLY:
            for request in requests_of(method, rule, value):
                status = client.open(**request).status_code
                assert status < 500, (method, rule, repr(value[:20]), status)
                answers[status] = answers.get(status, 0) + 1
    assert answers.get(400, 0) > 100  # the odd bytes were refused as such
    assert bookings(app) == 0
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("unit")
def test_a_refused_booking_leaves_nothing_personal_in_the_logs(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refused = client.post("/api/v1/bookings", json={**REQUEST, "comment": "vol\x00 de vélo"})
    assert refused.status_code == 400
    assert refused.json["error"] == "invalid_characters"
    assert "Camille" not in caplog.text
    assert "camille.secrete" not in caplog.text


def test_a_database_error_logs_neither_the_values_nor_the_row(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Engines hide bound values; PostgreSQL's own message quotes the failing row: scrubbed."""

    def failing() -> list[Any]:
        db.session.execute(
            text("INSERT INTO units (public_id, name) VALUES (:id, :name)"),
            {"id": "camille.secrete@example.org", "name": "Camille Secrète"},
        )
        return []

    monkeypatch.setattr("booking.web.api.list_reasons", failing)
    caplog.set_level(logging.DEBUG)
    assert client.get("/api/v1/motifs").status_code == 500
    assert "INSERT INTO units" in caplog.text  # the statement is there, to debug
    assert "camille.secrete" not in caplog.text
    assert "Camille" not in caplog.text


@pytest.mark.usefixtures("unit")
def test_bodies_are_bounded_in_size_and_depth(app: Flask, client: FlaskClient) -> None:
    large = client.post("/api/v1/bookings", json={**REQUEST, "comment": "x" * 70_000})
    assert large.status_code == 413
    assert large.json["error"] == "too_large"
    form = client.post("/unites/ORNEX/rendez-vous", data={"comment": "x" * 70_000})
    assert form.status_code == 413
    assert "trop volumineuse" in form.get_data(as_text=True)
    for depth in (50, 30_000):  # 60 kB: within the size limit, far beyond any sane depth
        nested = "[" * depth + "]" * depth
        deep = client.post("/api/v1/bookings", data=nested, content_type="application/json")
        assert deep.status_code == 422
    assert bookings(app) == 0


@pytest.mark.usefixtures("unit")
def test_absurd_paging_is_clamped_or_refused(client: FlaskClient) -> None:
    assert client.get("/?q=ornex&page=99999999999999999999999").status_code == 200
    assert client.get("/unites/ORNEX/creneaux?motif=otv&semaine=-99999999999999").status_code == 200
    api = client.get("/api/v1/units?q=ornex&offset=99999999999999999999999")
    assert api.status_code == 422
    assert "offset" in api.json["fields"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_unreachable_database_answers_503_in_french(tmp_path: Path, database: str) -> None:
    uri = {
        "sqlite": f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite3'}",
        "postgresql": "postgresql://postgres@127.0.0.1:1/nowhere",  # nobody listens there
    }[database]
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": uri,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    client = app.test_client()
    api = client.get("/api/v1/motifs")
    assert api.status_code == 503
    assert api.json["error"] == "unavailable"
    assert "réessayez" in api.json["message"]
    assert int(api.headers["Retry-After"]) > 0
    page = client.get("/unites/ORNEX")
    assert page.status_code == 503
    assert "momentanément indisponible" in page.get_data(as_text=True)
    slots = client.get("/api/v1/units/ORNEX/slots?motif=otv")  # the read without SQLAlchemy
    assert slots.status_code == 503
    assert slots.json["error"] == "unavailable"
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def end_server_connections(database_uri: str) -> int:
    """End every server process of the test database but the caller's, and wait until each
    has ended (as after a restart of the database); how many there were."""
    name = database_uri.rsplit("/", 1)[1]
    with psycopg.connect(database_uri.replace("+psycopg", ""), autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return int(ended[0]) if ended else 0


@pytest.mark.usefixtures("unit")
def test_a_cut_connection_is_replaced_before_the_next_request(
    app: Flask, client: FlaskClient, database_uri: str
) -> None:
    if not database_uri.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to cut")
    assert client.get("/api/v1/units/ORNEX").status_code == 200
    assert end_server_connections(database_uri) >= 1
    assert client.get("/api/v1/units/ORNEX").status_code == 200


@pytest.mark.usefixtures("unit")
def test_a_connection_lost_during_the_slots_read_answers_503_then_is_replaced(
    client: FlaskClient, database_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection lost without its socket telling (a network cut): the read fails with
    the French 503, the pool drops that connection, and the next request gets a new one."""
    if not database_uri.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to cut")
    slots = "/api/v1/units/ORNEX/slots?motif=otv"
    assert client.get(slots).status_code == 200
    monkeypatch.setattr("booking.database._spoke_while_idle", lambda _connection: False)
    end_server_connections(database_uri)
    monkeypatch.setattr("booking.services.slots.cache.REVALIDATE_SECONDS", 0.0)
    lost = client.get(slots + "&from=2026-11-25")  # not kept: read from the database
    assert lost.status_code == 503
    assert lost.json["error"] == "unavailable"
    assert client.get(slots + "&from=2026-11-26").status_code == 200


@pytest.mark.usefixtures("unit")
def test_a_live_connection_is_used_without_a_ping_and_a_cut_one_is_pinged(
    app: Flask, client: FlaskClient, database_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_uri.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to cut")
    with app.app_context():
        dialect = db.engine.dialect
    pings: list[object] = []
    real_ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    for _ in range(3):
        assert client.get("/api/v1/units/ORNEX").status_code == 200
    assert pings == []  # no round trip before each use of a live connection
    end_server_connections(database_uri)
    assert client.get("/api/v1/units/ORNEX").status_code == 200
    assert len(pings) >= 1  # the ended one was pinged, failed, and was replaced


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    "addresses",
    [
        ["victim@example.org", "victim+1@example.org", "Victim+2@Example.org"],  # +tags
        ["prenom.nom@gmail.com", "prenomnom@gmail.com", "p.r.e.n.o.m.n.o.m@googlemail.com"],
    ],
)
def test_the_per_email_limit_counts_the_mailbox_behind_an_address(
    client: FlaskClient, addresses: list[str]
) -> None:
    starts = ["2026-11-24T10:00:00+01:00", "2026-11-24T10:30:00+01:00", "2026-11-24T11:00:00+01:00"]
    statuses = [
        client.post("/api/v1/bookings", json={**REQUEST, "email": address, "start": start})
        for address, start in zip(addresses, starts, strict=True)
    ]
    assert [response.status_code for response in statuses] == [201, 201, 409]
    assert statuses[2].json["error"] == "limit_reached"

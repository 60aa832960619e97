"""Two web nodes and two job runners on one database: no overbooking, no email twice."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, BookingStatus, Unit
from tests.support.runners import Runners, all_marked_sent, subjects
from tests.support.server import Server
from tests.support.smtp import wait_for

ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}


@pytest.fixture
def nodes(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two gunicorn instances (two workers each) on two ports, one database."""
    first = Server(database_uri, tmp_path / "node-1", workers=2)
    second = Server(database_uri, tmp_path / "node-2", workers=2)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def runners(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[tuple[Runners, Any]]:
    """Two job runners sharing the database (and, on SQLite, the lock file of one machine)."""
    from tests.support.smtp import SmtpServer

    smtp = SmtpServer()
    smtp.start()
    started = Runners(database_uri, tmp_path, smtp)
    yield started, smtp
    started.stop_all()
    smtp.stop()


def test_two_nodes_two_runners(
    app: Flask,
    nodes: tuple[Server, Server],
    runners: tuple[Runners, Any],
    create_unit: Callable[..., Unit],
) -> None:
    unit = create_unit(public_id="NODES", desks=2, hours=ALWAYS_OPEN)
    started, smtp = runners
    active = started.start("runner-1")
    wait_for(lambda: "takes the lead" in started.log("runner-1"))
    started.start("runner-2")
    wait_for(lambda: "stands by" in started.log("runner-2"))

    _, slots = nodes[0].request("GET", "/api/v1/units/NODES/slots?motif=signalement")
    start = slots["slots"][4]["start"]  # ahead of the notice window, even in a slow run
    barrier = threading.Barrier(20)

    def book(n: int) -> int:
        barrier.wait()
        status, _ = nodes[n % 2].request(
            "POST",
            "/api/v1/bookings",
            {
                "unit_id": "NODES",
                "motif": "signalement",
                "start": start,
                "name": f"Citoyen {n}",
                "email": f"citoyen{n}@example.org",
            },
        )
        return status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(book, range(20)))
    assert statuses == {201: 2, 409: 18}
    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.unit_id == unit.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
    assert confirmed == 2

    wait_for(lambda: len(smtp.messages) >= 2, timeout=30)
    assert len(smtp.messages) == 2  # one confirmation each, sent once
    wait_for(lambda: all_marked_sent(app))  # see test_job_runner: then kill

    active.send_signal(signal.SIGKILL)
    active.wait(timeout=10)
    wait_for(lambda: "takes the lead" in started.log("runner-2"), timeout=30)
    later = slots["slots"][5]["start"]
    status, _ = nodes[1].request(
        "POST",
        "/api/v1/bookings",
        {
            "unit_id": "NODES",
            "motif": "signalement",
            "start": later,
            "name": "Après la panne",
            "email": "apres@example.org",
        },
    )
    assert status == 201
    wait_for(lambda: len(smtp.messages) >= 3, timeout=30)
    assert len(subjects(smtp)) == 3


def test_rate_limits_are_shared_between_nodes_through_redis(
    app: Flask, database_uri: str, tmp_path: Path
) -> None:
    """With RATELIMIT_STORAGE_URI on Redis, a client cannot dodge a limit by switching node."""
    import redis

    store = f"redis://127.0.0.1:6379/{7 + (hash(str(tmp_path)) % 8)}"
    redis.Redis.from_url(store).flushdb()
    env = {"RATELIMIT_STORAGE_URI": store, "RATE_LIMIT_SEARCH": "5 per minute"}
    first = Server(database_uri, tmp_path / "node-1", workers=2, extra_env=env)
    second = Server(database_uri, tmp_path / "node-2", workers=2, extra_env=env)
    try:
        statuses = [
            (first if n % 2 else second).request("GET", "/api/v1/units?q=x")[0] for n in range(7)
        ]
    finally:
        first.stop()
        second.stop()
        redis.Redis.from_url(store).flushdb()
    assert statuses == [200] * 5 + [429] * 2

"""Bounded load test on loopback: a realistic mix, then counts overbookings (must be 0).

Against gunicorn on PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL) and on SQLite:
CLIENTS processes send, for DURATION seconds, a mix of unit searches (40 %), slot lists
(35 %), bookings of free slots (20 %) and bookings of one contended slot of a one-desk unit
(5 %). Prints throughput, latency percentiles per kind, errors (5xx or exceptions), bookings
per second, and the overbookings found in the database afterwards. Rate limits are switched
off for the run (RATELIMIT_ENABLED=false): one loopback address would otherwise hit them.

Run from the project root: `.venv/bin/python bench/bench_load.py`.
Environment: BENCH_LOAD_CLIENTS (12), BENCH_LOAD_DURATION (15).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["RATELIMIT_ENABLED"] = "false"

from bench_http import (  # noqa: E402
    free_port,
    prepare,
    start_server,
    stop_server,
    wait_healthy,
)
from bench_next_slot import bench_app, postgresql_database, server_url  # noqa: E402
from sqlalchemy import select  # noqa: E402

from booking.extensions import db  # noqa: E402
from booking.models import Booking, BookingStatus, Unit  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "12"))
DURATION = float(os.environ.get("BENCH_LOAD_DURATION", "15"))
QUERIES = ["ornex", "saint", "brigade", "gex", "lyon", "01210", "974", "marseille"]
MIX = [("search", 40), ("slots", 35), ("book", 20), ("contended", 5)]


def client(port: int, units: list[str], contended: dict[str, str], seed: int, results: Any) -> None:
    """One process: a keep-alive connection, the mix until the deadline."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    deadline = time.monotonic() + DURATION
    serial = 0
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        serial += 1
        method, path, body = "GET", "", None
        if kind == "search":
            path = f"/api/v1/units?q={rng.choice(QUERIES)}&motif=signalement&limit=20"
        elif kind == "slots":
            path = f"/api/v1/units/{rng.choice(units)}/slots?motif=signalement"
        else:
            if kind == "book":
                unit = rng.choice(units)
                status, slots = _get(connection, f"/api/v1/units/{unit}/slots?motif=signalement")
                if status != 200 or not slots["slots"]:
                    continue
                start = rng.choice(slots["slots"][:40])["start"]
            else:
                unit, start = contended["unit"], contended["start"]
            method, path = "POST", "/api/v1/bookings"
            body = {
                "unit_id": unit,
                "motif": "signalement",
                "start": start,
                "name": "Charge Test",
                "email": f"c{seed}-{serial}@example.org",
            }
        began = time.perf_counter()
        try:
            status = _request(connection, method, path, body)
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples[kind].append(time.perf_counter() - began)
        statuses[kind][status] += 1
    results.put(({k: v for k, v in samples.items()}, {k: dict(v) for k, v in statuses.items()}))


def _request(connection: http.client.HTTPConnection, method: str, path: str, body: Any) -> int:
    """One request on the keep-alive connection; its status."""
    payload = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _get(connection: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    """A GET whose JSON is needed."""
    connection.request("GET", path)
    response = connection.getresponse()
    data = response.read()
    return response.status, json.loads(data) if response.status == 200 else None


def overbookings(app: Any) -> int:
    """Confirmed bookings that started while the unit already had all its desks taken."""
    with app.app_context():
        desks = {unit_id: n for unit_id, n in db.session.execute(select(Unit.id, Unit.desks))}
        rows = db.session.execute(
            select(Booking.unit_id, Booking.starts_at, Booking.ends_at).where(
                Booking.status == BookingStatus.CONFIRMED
            )
        ).all()
        db.session.remove()
    by_unit: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    for unit_id, start, end in rows:
        by_unit[unit_id].append((start, end))
    found = 0
    for unit_id, intervals in by_unit.items():
        for start, _ in intervals:
            in_progress = sum(1 for s, e in intervals if s <= start < e)
            if in_progress > desks[unit_id]:
                found += 1
    return found


def percentile(values: list[float], share: float) -> float:
    """The share-th percentile, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def run(label: str, database_url: str, sqlalchemy_url: str, folder: str) -> None:
    """Prepare, serve, load, report."""
    units = prepare(database_url, sqlalchemy_url, folder)[:200]
    app = bench_app(sqlalchemy_url, folder)
    with app.app_context():
        contended_unit = db.session.scalar(select(Unit).where(Unit.public_id == units[0]))
        contended_unit.desks = 1
        db.session.commit()
        db.session.remove()
    port = free_port()
    log = Path(folder) / "gunicorn.log"
    server = start_server(database_url, port, log)
    try:
        wait_healthy(server, port, log)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _, slots = _get(connection, f"/api/v1/units/{units[0]}/slots?motif=signalement")
        contended = {"unit": units[0], "start": slots["slots"][5]["start"]}
        results: Any = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(target=client, args=(port, units[1:], contended, n, results))
            for n in range(CLIENTS)
        ]
        began = time.monotonic()
        for worker in workers:
            worker.start()
        collected = [results.get(timeout=DURATION + 120) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        elapsed = time.monotonic() - began
    finally:
        stop_server(server)
    samples: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for sample, status in collected:
        for kind, values in sample.items():
            samples[kind].extend(values)
        for kind, counts in status.items():
            for code, count in counts.items():
                statuses[kind][code] += count
    total = sum(len(values) for values in samples.values())
    print(f"{label}: {CLIENTS} clients, {elapsed:.1f} s, {total / elapsed:.0f} requests/s")
    for kind, _ in MIX:
        values = samples.get(kind, [])
        codes = dict(sorted(statuses.get(kind, {}).items()))
        errors = sum(n for code, n in codes.items() if code == 0 or code >= 500)
        print(
            f"  {kind:<10} {len(values) / elapsed:7.1f}/s  p50 {percentile(values, 0.5):6.1f} ms"
            f"  p95 {percentile(values, 0.95):6.1f} ms  p99 {percentile(values, 0.99):6.1f} ms"
            f"  errors {errors}  statuses {codes}"
        )
    booked = statuses["book"].get(201, 0) + statuses["contended"].get(201, 0)
    print(
        f"  bookings created: {booked} ({booked / elapsed:.1f}/s); contended slot won "
        f"{statuses['contended'].get(201, 0)} time(s) (at most 1)"
    )
    print(f"  overbookings found in the database: {overbookings(app)}")


def main() -> None:
    """PostgreSQL when named, and SQLite."""
    server = server_url()
    if server:
        with postgresql_database(server) as url, tempfile.TemporaryDirectory() as folder:
            run("PostgreSQL", url, url.replace("postgresql://", "postgresql+psycopg://"), folder)
    else:
        print("PostgreSQL: not measured (set BENCH_DATABASE_URL=postgresql://…)")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/load.sqlite3"
        run("SQLite", url, url, folder)


if __name__ == "__main__":
    main()

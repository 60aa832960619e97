"""Benchmark: bookings over HTTP, beside the trivial and the slots endpoints, in one run.

The shape of the comparison the booking throughput issue reports: gunicorn with 2 sync
workers, rate limits and the booking challenge off, CLIENTS client processes (keep-alive
connections) for WARMUP + DURATION seconds per measure, on loopback. For SQLite, and for
PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server:

1. trivial: GET /healthz;
2. warm slots: the slots of one day of one unit, asked again and again;
3. cold slots: the slots of one day of a unit, a different unit and day for every request
   (never asked before in the run);
4. bookings: POST /api/v1/bookings of fresh slots spread over many units (each client its
   own slots, unique emails), then the overbookings found in the database (must be 0);
5. in process, without HTTP: milliseconds per booking (`book()`), and on SQLite the time
   the database's write lock is held per booking (BEGIN IMMEDIATE to COMMIT);
6. in process, the trivial endpoint called as a WSGI server calls it, beside a bare Flask
   app that answers the same JSON: the cost of this application's per-request layers.

Figures are printed next to the targets; nothing is asserted.
Run from the project root: `.venv/bin/python bench/bench_bookings.py`.
Environment: BENCH_BOOK_CLIENTS (16), BENCH_BOOK_DURATION (6), BENCH_BOOK_WARMUP (1).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["RATELIMIT_ENABLED"] = "false"

import bench_http  # noqa: E402
from bench_http import (  # noqa: E402
    free_port,
    group_cpu_seconds,
    load,
    prepare,
    show,
    stop_server,
    wait_healthy,
)
from bench_load import overbookings  # noqa: E402
from bench_next_slot import bench_app, postgresql_database, server_url  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from booking import clock  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.logs import configure as configure_logs  # noqa: E402
from booking.models import Unit  # noqa: E402
from booking.services.bookings.make import BookingDetails, book  # noqa: E402
from booking.services.reasons import get_reason  # noqa: E402
from booking.services.slots.offered import unit_slots  # noqa: E402
from booking.services.units.reading import get_unit  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_BOOK_CLIENTS", "16"))
DURATION = float(os.environ.get("BENCH_BOOK_DURATION", "6"))
WARMUP = float(os.environ.get("BENCH_BOOK_WARMUP", "1"))
MOTIF = "signalement"
FRESH_UNITS = 900  # units whose free slots the bookings run takes
IN_PROCESS_BOOKINGS = 300
TARGETS = {
    "bookings": "≥ 250 bookings/s, p99 < 100 ms, 0 overbookings",
    "in_process": "≤ 3 ms per booking on SQLite",
    "lock": "< 2 ms per booking",
    "cold": "cold slots ≥ 0.5 × trivial",
    "overhead": "≤ 1.5 × a bare Flask app",
}
TRIVIAL_CALLS = 20_000


def fresh_slots(app: Any, days: int) -> list[tuple[str, str]]:
    """(unit id, start) of free slots `days` days ahead, over many units, shuffled."""
    rng = random.Random(20261124)
    reason_code = MOTIF
    found: list[tuple[str, str]] = []
    with app.app_context():
        reason = get_reason(reason_code)
        units = db.session.scalars(select(Unit).where(Unit.active.is_(True))).all()
        for unit in rng.sample(list(units), min(FRESH_UNITS, len(units))):
            day = clock.now().date() + timedelta(days=days)
            for slot in unit_slots(unit, reason, day, day).slots:
                found.append((unit.public_id, slot.start.isoformat()))
        db.session.remove()
    rng.shuffle(found)
    return found


def booking_client(
    port: int, slots: list[tuple[str, str]], seed: int, warm_until: float, stop_at: float, out: Any
) -> None:
    """Book this client's slots back to back on a keep-alive connection until `stop_at`."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for serial, (unit_id, start) in enumerate(slots):
        began = time.monotonic()
        if began >= stop_at:
            break
        body = json.dumps(
            {
                "unit_id": unit_id,
                "motif": MOTIF,
                "start": start,
                "name": "Charge Test",
                "email": f"bench-{seed}-{serial}@example.org",
            }
        )
        try:
            connection.request(
                "POST", "/api/v1/bookings", body, {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        ended = time.monotonic()
        if began >= warm_until and ended <= stop_at:
            latencies.append(ended - began)
            statuses[status] = statuses.get(status, 0) + 1
    connection.close()
    out.put((latencies, statuses))


def book_over_http(
    port: int, slots: list[tuple[str, str]], pgid: int
) -> tuple[list[float], dict[int, int], float]:
    """CLIENTS processes booking their share of `slots`: what they measured, and the CPU
    seconds the server used meanwhile."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = time.monotonic() + 0.5
    warm_until, stop_at = start + WARMUP, start + WARMUP + DURATION
    processes = [
        context.Process(
            target=booking_client,
            args=(port, slots[index::CLIENTS], index, warm_until, stop_at, queue),
        )
        for index in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    time.sleep(max(0.0, warm_until - time.monotonic()))
    before = group_cpu_seconds(pgid)
    time.sleep(max(0.0, stop_at - time.monotonic()))
    server_cpu = sum(group_cpu_seconds(pgid).values()) - sum(before.values())
    results = [queue.get(timeout=DURATION + WARMUP + 60) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    latencies = [value for result in results for value in result[0]]
    statuses: dict[int, int] = {}
    for _, counted in results:
        for code, count in counted.items():
            statuses[code] = statuses.get(code, 0) + count
    return latencies, statuses, server_cpu


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def in_process(app: Any, slots: list[tuple[str, str]], sqlite: bool) -> None:
    """The booking service called in a loop as the API calls it (unit and reason looked up,
    then `book()`): milliseconds per booking, and the time the write lock is held."""
    held: list[float] = []
    opened: list[float] = []
    with app.app_context():
        engine = db.engine
        if sqlite:

            @event.listens_for(engine, "before_cursor_execute")
            def began(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                if statement.startswith("BEGIN IMMEDIATE"):
                    opened.append(time.perf_counter())

            @event.listens_for(engine, "commit")
            def committed(conn: Any) -> None:
                if opened:
                    held.append(time.perf_counter() - opened.pop())

            @event.listens_for(engine, "rollback")
            def rolled_back(conn: Any) -> None:
                if opened:
                    held.append(time.perf_counter() - opened.pop())

        durations, made = [], 0
        for serial, (unit_id, start) in enumerate(slots[:IN_PROCESS_BOOKINGS]):
            details = BookingDetails(start, "Charge Test", f"inproc-{serial}@example.org")
            began_at = time.perf_counter()
            try:  # as the API does it: the unit and the reason looked up, then the booking
                book(get_unit(unit_id), get_reason(MOTIF), details)
                made += 1
            except Exception:  # a slot taken by the HTTP run: skipped, not timed
                db.session.rollback()
                continue
            durations.append(time.perf_counter() - began_at)
            db.session.commit()  # the end of the request
        db.session.remove()
    mean = statistics.fmean(durations) * 1000 if durations else float("nan")
    print(
        f"  in process: {mean:.2f} ms per booking (median"
        f" {statistics.median(durations) * 1000 if durations else float('nan'):.2f} ms,"
        f" {made} bookings)   target {TARGETS['in_process']}"
    )
    if sqlite:
        lock = statistics.fmean(held) * 1000 if held else float("nan")
        print(
            f"  SQLite write lock held: {lock:.2f} ms per booking (median"
            f" {statistics.median(held) * 1000 if held else float('nan'):.2f} ms)"
            f"   target {TARGETS['lock']}"
        )


def wsgi_microseconds(app: Any, path: str, calls: int) -> float:
    """Microseconds per request of `app` called as a WSGI server calls it (no socket)."""
    environ_base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return lambda data: None

    def once() -> None:
        environ = dict(environ_base)
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["wsgi.errors"] = sys.stderr
        body = app(environ, start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    for _ in range(calls // 10):  # warm up
        once()
    began = time.perf_counter()
    for _ in range(calls):
        once()
    return (time.perf_counter() - began) / calls * 1e6


def overhead(app: Any) -> None:
    """The trivial endpoint in process, beside a bare Flask app answering the same JSON."""
    bare = Flask("bare")

    @bare.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    root = logging.getLogger()
    kept = root.handlers[:]
    with open(os.devnull, "w") as sink:  # each request's log line formatted as in production
        configure_logs("json")  # and written, as to a file
        root.handlers[0].setStream(sink)  # type: ignore[attr-defined]
        try:
            ours = wsgi_microseconds(app, "/healthz", TRIVIAL_CALLS)
            theirs = wsgi_microseconds(bare, "/healthz", TRIVIAL_CALLS)
        finally:
            root.handlers[:] = kept
    print(
        f"  trivial endpoint in process: {ours:.0f} µs per request, bare Flask {theirs:.0f} µs"
        f" ({ours / theirs:.2f} ×)   target {TARGETS['overhead']}"
    )


def run(label: str, database_url: str, sqlalchemy_url: str, folder: str) -> None:
    """Prepare, serve with 2 sync workers, measure the four loads, then in process."""
    bench_http.CLIENTS, bench_http.DURATION, bench_http.WARMUP = CLIENTS, DURATION, WARMUP
    bench_http.THREADS = 1  # sync workers, as the comparison ran them
    ids = prepare(database_url, sqlalchemy_url, folder)
    app = bench_app(sqlalchemy_url, folder)
    http_slots = fresh_slots(app, days=3)
    process_slots = fresh_slots(app, days=4)
    today = time.strftime("%Y-%m-%d")
    print(
        f"{label}: gunicorn --workers 2 (sync), {CLIENTS} client processes, {WARMUP:g} s"
        f" warm-up + {DURATION:g} s measured per load; {len(http_slots)} fresh slots offered"
    )
    port = free_port()
    log_path = Path(folder) / "gunicorn.log"
    process = bench_http.start_server(database_url, port, log_path)
    try:
        wait_healthy(process, port, log_path)
        trivial = load("trivial", port, ["/healthz"], process.pid)
        show(trivial)
        day = f"&from={today}&to={today}"
        warm = load("warm", port, [f"/api/v1/units/{ids[0]}/slots?motif={MOTIF}{day}"], process.pid)
        show(warm)
        rng = random.Random(7)
        cold_paths = []
        with app.app_context():
            every = [p for (p,) in db.session.execute(select(Unit.public_id))]
            db.session.remove()
        for offset in range(1, 15):
            date = time.strftime("%Y-%m-%d", time.localtime(time.time() + offset * 86400))
            cold_paths += [
                f"/api/v1/units/{u}/slots?motif={MOTIF}&from={date}&to={date}" for u in every
            ]
        rng.shuffle(cold_paths)
        cold = load("cold", port, cold_paths, process.pid)
        show(cold)
        ratio = cold.rate / trivial.rate if trivial.rate else float("nan")
        print(f"  cold slots / trivial: {ratio:.2f}   target {TARGETS['cold']}")
        latencies, statuses, server_cpu = book_over_http(port, http_slots, process.pid)
        made = statuses.get(201, 0)
        print(
            f"  bookings over HTTP: {made / DURATION:.0f} bookings/s,"
            f" p50 {percentile_ms(latencies, 0.5):.1f} ms,"
            f" p99 {percentile_ms(latencies, 0.99):.1f} ms,"
            f" statuses {dict(sorted(statuses.items()))}   target {TARGETS['bookings']}"
        )
        print(
            f"  {'':<8} CPU: server {server_cpu / DURATION:.2f} cores,"
            f" {server_cpu / max(made, 1) * 1000:.2f} ms per booking (workers and their database"
            " work; PostgreSQL's own processes are not counted)"
        )
    finally:
        stop_server(process)
    print(f"  overbookings found in the database: {overbookings(app)}")
    in_process(app, process_slots, sqlite=sqlalchemy_url.startswith("sqlite"))
    overhead(app)


def main() -> None:
    """SQLite, then PostgreSQL when named."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bookings.sqlite3"
        run("SQLite", url, url, folder)
    server = server_url()
    if server:
        with postgresql_database(server) as url, tempfile.TemporaryDirectory() as folder:
            run("PostgreSQL", url, url.replace("postgresql://", "postgresql+psycopg://"), folder)
    else:
        print("PostgreSQL: not measured (set BENCH_DATABASE_URL=postgresql://…)")


if __name__ == "__main__":
    main()

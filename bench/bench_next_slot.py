"""Benchmark: next slot of every unit, unit searches, busy units. Prints figures only.

On the whole dataset (data/units.csv and data/motifs.json), with a few hundred confirmed
bookings spread over units, times through the services and the API (median of several runs):

  (a) `first_slots(all active units, "signalement")`, loading the units and their opening
      ranges (selectinload) first; the load, the computation and both together;
  (b) `GET /api/v1/units?motif=signalement&department=01&limit=100` and
      `GET /api/v1/units?motif=signalement&near=45.76,4.83&limit=20` through the test client;
  (c) `unit_slots()` of a unit with 300 confirmed bookings over its horizon (load + compute),
      and the domain computation alone on the same inputs: for a unit open the most common
      hours of the dataset (54 h a week), and for the one open the longest (24/7).

Runs on a temporary SQLite database, and on PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) names a server: a fresh database is created there and dropped after.
The current instant is the real one (`booking.clock` is not patched).

Run from the project root: `.venv/bin/python bench/bench_next_slot.py`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from booking import create_app  # noqa: E402
from booking.domain.slots import Interval, SlotQuery, offered_slots  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.models import Booking, BookingStatus, OpeningRange, Unit  # noqa: E402
from booking.services.reasons import get_reason, load_reasons  # noqa: E402
from booking.services.slots.offered import all_first_slots as every_first_slot  # noqa: E402
from booking.services.slots.offered import first_slots, policy, unit_slots  # noqa: E402
from booking.services.units.importing import import_units  # noqa: E402
from booking.services.units.reading import get_unit, weekly_hours  # noqa: E402

DATASET = ROOT / "data" / "units.csv"
REASON = "signalement"
SPREAD_UNITS = 100  # units that get a few bookings on their first slots
SPREAD_PER_UNIT = 3
HEAVY_BOOKINGS = 300  # bookings of each busy unit, over its whole horizon
SEARCHES = (
    "/api/v1/units?motif=signalement&department=01&limit=100",
    "/api/v1/units?motif=signalement&near=45.76,4.83&limit=20",
)


# --- shared with bench_http.py -------------------------------------------------------------


def server_url() -> str | None:
    """The PostgreSQL server to measure on, if one is named in the environment."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or None


def skipped_postgresql() -> None:
    """Say that PostgreSQL was not measured, and how to have it measured."""
    print(
        "PostgreSQL: not measured (set BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/"
        "postgres, or TEST_DATABASE_URL, to measure it too)"
    )


@contextmanager
def postgresql_database(server: str) -> Iterator[str]:
    """A fresh database on the server, dropped on the way out (even after an error)."""
    import psycopg

    name = f"booking_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def quiet_logs() -> None:
    """Send the root logger's stream output to /dev/null: records still cost their formatting
    (as in a server, which logs each request), but do not drown the figures."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the process' life


def bench_app(uri: str, instance: str) -> Flask:
    """An application on this database (APP_ENV is `testing` for apps built with a config)."""
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "INSTANCE_PATH": instance}
    )


def new_booking(unit_id: int, start: Any, end: Any, serial: int) -> Booking:
    """A confirmed booking row, as the booking service would write it."""
    key = uuid.uuid4().hex
    return Booking(
        reference=key[:12].upper(),
        unit_id=unit_id,
        reason_code=REASON,
        starts_at=start,
        ends_at=end,
        status=BookingStatus.CONFIRMED,
        name="Camille Martin",
        email=f"bench{serial}@example.org",
        token_hash=hashlib.sha256(key.encode()).hexdigest(),
        ics_uid=f"{key}@bench.invalid",
    )


def _weekly_minutes() -> list[tuple[int, str]]:
    """(weekly opening minutes, public id) of every active unit, public holidays left out."""
    minutes = func.sum(OpeningRange.end_minute - OpeningRange.start_minute)
    rows = db.session.execute(
        select(minutes, Unit.public_id)
        .join(OpeningRange, OpeningRange.unit_id == Unit.id)
        .where(Unit.active.is_(True), OpeningRange.weekday < 7)
        .group_by(Unit.public_id)
    )
    return sorted((int(total), public_id) for total, public_id in rows)


def typical_unit() -> str:
    """The first unit (by id) open the most common number of hours a week (54 h in the data)."""
    weekly = _weekly_minutes()
    counts = Counter(total for total, _ in weekly)
    modal = max(counts, key=lambda total: (counts[total], total))
    return min(public_id for total, public_id in weekly if total == modal)


def busiest_unit() -> str:
    """The unit open the longest (24/7 in the data): the most candidate slots."""
    weekly = _weekly_minutes()
    top = weekly[-1][0]
    return min(public_id for total, public_id in weekly if total == top)


def active_public_ids() -> list[str]:
    """Public ids of the active units, sorted."""
    return sorted(db.session.scalars(select(Unit.public_id).where(Unit.active.is_(True))))


def add_bookings(
    rng: random.Random, spread: list[str], per_unit: int, heavy_units: list[str], heavy: int
) -> int:
    """Book the first `per_unit` slots of each `spread` unit, `heavy` slots of each heavy unit.

    Bookings take offered `signalement` slots (so they do occupy desks), from the real current
    instant; a heavy unit's are drawn at random over its horizon. Returns how many were added.
    """
    rows: list[Booking] = []
    for public_id in spread:
        found = unit_slots(get_unit(public_id), get_reason(REASON))
        for slot in found.slots[:per_unit]:
            rows.append(new_booking(found.unit.id, slot.start, slot.end, len(rows)))
    for public_id in heavy_units:
        found = unit_slots(get_unit(public_id), get_reason(REASON))
        # One booking per free desk of a slot, as many as asked and as the unit can take
        # (the database refuses overbooking); the units chosen here have room for 300.
        places = [slot for slot in found.slots for _ in range(slot.available)]
        chosen = rng.sample(places, min(heavy, len(places)))
        for slot in chosen:
            rows.append(new_booking(found.unit.id, slot.start, slot.end, len(rows)))
    db.session.add_all(rows)
    db.session.commit()
    return len(rows)


# --- this benchmark --------------------------------------------------------------------------


def timed(label: str, action: Callable[[], object], repeat: int, note: str = "") -> float:
    """Run `action` once to warm up, then `repeat` times; print the median and best; median."""
    action()
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    return report(label, durations, note)


def report(label: str, durations: list[float], note: str = "") -> float:
    """Print the median and the best of some durations (seconds); return the median."""
    median = statistics.median(durations)
    print(
        f"  {label:<62} median {median * 1000:8.2f} ms   best {min(durations) * 1000:8.2f} ms"
        + (f"   {note}" if note else "")
    )
    return median


def load_units() -> list[Unit]:
    """Every active unit, its opening ranges loaded (two queries)."""
    return list(
        db.session.scalars(
            select(Unit).where(Unit.active.is_(True)).options(selectinload(Unit.opening_ranges))
        )
    )


def in_context(app: Flask, action: Callable[[], Any]) -> Callable[[], Any]:
    """`action` in its own app context, hence a fresh session (empty identity map): a request."""

    def run() -> Any:
        with app.app_context():
            return action()

    return run


def all_first_slots(app: Flask) -> None:
    """(a) Load every active unit, then its first offered slot; each step and both."""
    with app.app_context():
        firsts = first_slots(load_units(), get_reason(REASON))
    offered = sum(slot is not None for slot in firsts.values())
    print(f" (a) first offered slot of every active unit ({len(firsts)})")
    timed("load units + opening ranges (selectinload)", in_context(app, load_units), 7)
    # first_slots alone: the units are loaded, in the same context, before the clock starts.
    durations = []
    for _ in range(8):
        with app.app_context():
            loaded, reason = load_units(), get_reason(REASON)
            start = time.perf_counter()
            first_slots(loaded, reason)
            durations.append(time.perf_counter() - start)
    report("first_slots() on loaded units (2 occupancy queries + compute)", durations[1:])
    timed(
        "load (ORM) + first_slots(), all units",
        in_context(app, lambda: first_slots(load_units(), get_reason(REASON))),
        7,
        f"{offered}/{len(firsts)} units with a slot",
    )
    timed(
        "all_first_slots(): plain rows + compute (target < 500 ms)",
        in_context(app, lambda: every_first_slot(get_reason(REASON))),
        7,
        f"{offered}/{len(firsts)} units with a slot",
    )


def searches(app: Flask) -> None:
    """(b) The searches of the API with a motif (hence a next slot per unit found)."""
    print(" (b) searches through the API (Flask test client, one request each)")
    client = app.test_client()
    for url in SEARCHES:
        response = client.get(url)
        if response.status_code != 200:
            print(f"  {url}: HTTP {response.status_code} {response.get_data(as_text=True)}")
            continue
        body = response.get_json()
        with_slot = sum(item["next_slot"] is not None for item in body["items"])
        timed(
            url.removeprefix("/api/v1"),
            lambda url=url: client.get(url),
            9,
            f"{len(body['items'])} items/{body['total']}, {with_slot} with a slot,"
            f" {len(response.data) / 1024:.0f} KiB",
        )


def busy_unit(app: Flask, public_id: str, label: str) -> None:
    """(c) All the slots of one unit with many bookings: through the service, then the domain."""
    from booking import clock

    with app.app_context():
        found = unit_slots(get_unit(public_id), get_reason(REASON))
        unit = found.unit
        hours = weekly_hours(unit)
        inputs: dict[str, Any] = {
            "hours": hours,
            "department": unit.department,
            "duration_minutes": found.reason.duration_minutes,
            "desks": unit.desks,
            "closures": [],
            "bookings": [
                Interval(starts_at, ends_at)
                for starts_at, ends_at in db.session.execute(
                    select(Booking.starts_at, Booking.ends_at).where(Booking.unit_id == unit.id)
                )
            ],
        }
        days = found.first_day, found.last_day
    weekly = sum(end - start for day, ranges in hours.items() if day < 7 for start, end in ranges)
    print(
        f" (c) {label}: {public_id}, open {weekly / 60:g} h a week, {unit.desks} desk(s),"
        f" {len(inputs['bookings'])} confirmed bookings, {len(found.slots)} slots left"
    )
    timed(
        "unit_slots(): DB load + compute, whole horizon",
        in_context(app, lambda: unit_slots(get_unit(public_id), get_reason(REASON))),
        15,
    )
    now = clock.now()
    timed(
        "offered_slots() alone, same inputs (domain; target < 2 ms)",
        lambda: offered_slots(SlotQuery(**inputs, now=now), *days),
        15,
    )


def bench(uri: str, label: str) -> None:
    """Prepare the database, then time (a), (b) and (c)."""
    rng = random.Random(20260316)
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(uri, folder)
        quiet_logs()
        with app.app_context():
            # The schema of the models, as the tests build it (bench_http.py runs the
            # migrations): this benchmark keeps working while a migration is being written.
            db.create_all()
            load_reasons()
            import_units(DATASET.read_bytes())
            typical, busiest = typical_unit(), busiest_unit()
            others = [p for p in active_public_ids() if p not in (typical, busiest)]
            spread = sorted(rng.sample(others, SPREAD_UNITS))
            add_bookings(rng, spread, SPREAD_PER_UNIT, [typical, busiest], HEAVY_BOOKINGS)
            bookings = db.session.scalar(select(func.count(Booking.id)))
            horizon = policy().horizon_days
        print(
            f"{label}: {bookings} confirmed bookings ({SPREAD_PER_UNIT} on the first slots of"
            f" {len(spread)} random units, {HEAVY_BOOKINGS} at {typical} and at {busiest});"
            f" motif {REASON}, horizon {horizon} days"
        )
        all_first_slots(app)
        searches(app)
        busy_unit(app, typical, "a unit with the most common hours")
        busy_unit(app, busiest, "the unit open the longest")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    """SQLite always, PostgreSQL when a server is named."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.sqlite3", "SQLite")
    server = server_url()
    if server:
        with postgresql_database(server) as uri:
            bench(uri, "PostgreSQL")
    else:
        skipped_postgresql()


if __name__ == "__main__":
    main()

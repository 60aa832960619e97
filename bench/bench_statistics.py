"""Benchmark: the public statistics at 500,000 bookings. Prints figures only.

On the whole units dataset (data/units.csv), with BENCH_STATS_BOOKINGS bookings (500,000)
made over the last year across every unit, week, status, channel, mode and reason (a few
discreet), a quarter of a year of emails in the outbox, a year of the orienteur's daily
counts and a year of daily delay measures (every département and reason), this times:

  (a) `refresh_figures()`: the first run, which writes every week, then the job runner's
      run every five minutes (only the weeks still open are written again), with the
      reading and computing of the sources apart;
  (b) `measure_delays()`: the daily measure of the first free slot, every unit and reason;
  (c) `GET /statistiques` through Flask's test client, a few hundred times: p50 and p99
      (target < 50 ms), as it is and after `gc.freeze()`, beside `figures()` alone;
      `GET /statistiques.csv`, written afresh and then from its cache.

Bookings are written by plain multi-row inserts (no ORM objects, no personal data); visits
whose seat they would hold are only those still to come, one at a time per unit.
Runs on a temporary SQLite database, and on PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) names a server. Nothing is asserted.

Run from the project root: `.venv/bin/python bench/bench_statistics.py`.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_next_slot import (  # noqa: E402
    postgresql_database,
    quiet_logs,
    server_url,
    skipped_postgresql,
)
from flask import Flask  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from booking import clock, create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.models import (  # noqa: E402
    Booking,
    OrientationCount,
    OutboxMessage,
    Reason,
    SlotDelay,
    Unit,
    WeeklyFigure,
)
from booking.services.reasons import load_reasons  # noqa: E402
from booking.services.statistics import figures, measure_delays, refresh_figures  # noqa: E402
from booking.services.statistics.refresh import (  # noqa: E402
    compute,
    first_open_week,
    stored_weeks,
)
from booking.services.units.importing import import_units  # noqa: E402

DATASET = ROOT / "data" / "units.csv"
BOOKINGS = int(os.environ.get("BENCH_STATS_BOOKINGS", "500000"))
EMAILS = BOOKINGS // 4  # a quarter of a year of emails: the purge deletes older ones
PAGE_REQUESTS = int(os.environ.get("BENCH_STATS_REQUESTS", "300"))
BATCH = 10_000
TARGET_PAGE = "page < 50 ms"
# Past visits' statuses, as often as they come (confirmed ones are those still to come).
PAST = ["honoured"] * 80 + ["no_show"] * 6 + ["cancelled_by_citizen"] * 10
PAST += ["cancelled_by_unit"] * 2 + ["expired"] * 2
CHANNELS = ["online"] * 70 + ["staff"] * 18 + ["invitation"] * 5 + ["partner_api"] * 5
CHANNELS += ["waitlist"] * 2
MODES = ["on_site"] * 85 + ["phone"] * 12 + ["video"] * 3
OUTCOMES = ("plainte", "urgence", "pre_plainte", "service_en_ligne", "rendez_vous")


def bench_app(uri: str, instance: str) -> Flask:
    """An application on this database, rate limits off (the page is limited per client)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "RATELIMIT_ENABLED": False,
        }
    )


def booking_rows(
    rng: random.Random, units: list[int], reasons: list[str], now: datetime
) -> Iterator[dict[str, Any]]:
    """BOOKINGS rows made over the last year; those still to come are confirmed, one hour
    apart at each unit (they hold a seat: never two at once)."""
    next_free = {unit: now + timedelta(days=2) for unit in units}
    for serial in range(BOOKINGS):
        created = now - timedelta(seconds=rng.randrange(365 * 86_400))
        starts = created + timedelta(minutes=rng.choice((120, 600, 1440)) * rng.random() * 20)
        unit = rng.choice(units)
        mode, status = rng.choice(MODES), rng.choice(PAST)
        if starts > now:
            status = "confirmed"
            mode, starts = "on_site", next_free[unit]
            next_free[unit] += timedelta(hours=1)
        key = uuid.UUID(int=rng.getrandbits(128)).hex
        yield {
            "reference": f"B{serial:011d}",
            "unit_id": unit,
            "reason_code": rng.choice(reasons),
            "starts_at": starts,
            "ends_at": starts + timedelta(minutes=30),
            "status": status,
            "name": "",
            "email": "",
            "email_key": "",
            "phone": "",
            "comment": "",
            "pre_declaration": "",
            "token_hash": key,
            "ics_uid": f"{key}@bench.invalid",
            "ics_sequence": 0,
            "cancel_reason": "",
            "reminder_error": "",
            "discreet": rng.random() < 0.02,
            "mode": mode,
            "channel": rng.choice(CHANNELS),
            "video_room": "",
            "language": "fr",
            "created_at": created,
            "updated_at": created,
        }


def insert_batches(table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows BATCH at a time, in one transaction; how many."""
    done, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(table), batch)
            done, batch = done + len(batch), []
    if batch:
        db.session.execute(insert(table), batch)
        done += len(batch)
    db.session.commit()
    return done


def email_rows(rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    """EMAILS outbox rows of the last 90 days, nearly all sent, a few retried or dropped."""
    for _ in range(EMAILS):
        created = now - timedelta(seconds=rng.randrange(90 * 86_400))
        attempts = 1 if rng.random() < 0.95 else rng.randrange(2, 7)
        dropped = attempts == 6
        yield {
            "kind": "reminder",
            "recipient": "",
            "subject": "",
            "notice": "",
            "message": "",
            "created_at": created,
            "next_attempt_at": created,
            "attempts": attempts,
            "sent_at": None if dropped else created + timedelta(minutes=attempts),
            "dropped_at": created + timedelta(hours=6) if dropped else None,
            "last_error": "",
        }


def measure_rows(rng: random.Random, departments: list[str], reasons: list[str], today: date):
    """A year of daily delay measures, every département and France, every reason."""
    for back in range(1, 366):
        for department in ["", *departments]:
            for reason in reasons:
                days = rng.random() * 10
                yield {
                    "measured_on": today - timedelta(days=back),
                    "department": department,
                    "reason_code": reason,
                    "units": 30,
                    "units_without": rng.randrange(3),
                    "median_days": round(days, 2),
                    "p90_days": round(days * 2, 2),
                }


def seed(app: Flask, now: datetime) -> None:
    """The units, the bookings, the emails, the orienteur's counts and the delays."""
    rng = random.Random(20261207)
    with app.app_context():
        db.create_all()
        load_reasons()
        import_units(DATASET.read_bytes())
        units = sorted(db.session.scalars(select(Unit.id).where(Unit.active.is_(True))))
        reasons = sorted(db.session.scalars(select(Reason.code)))
        departments = sorted(set(db.session.scalars(select(Unit.department))))
        began = time.perf_counter()
        made = insert_batches(Booking.__table__, booking_rows(rng, units, reasons, now))
        took = time.perf_counter() - began
        emails = insert_batches(OutboxMessage.__table__, email_rows(rng, now))
        counts = (
            {"day": now.date() - timedelta(days=back), "outcome": outcome, "count": 40}
            for back in range(365)
            for outcome in OUTCOMES
        )
        insert_batches(OrientationCount.__table__, counts)
        delays = insert_batches(
            SlotDelay.__table__, measure_rows(rng, departments, reasons, now.date())
        )
        discreet = db.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.discreet.is_(True))
        )
    print(
        f"  seeded {made:,} bookings in {took:.0f} s ({discreet:,} made discreet) over"
        f" {len(units):,} units, {emails:,} emails, {delays:,} daily delay rows"
    )


def timed(label: str, action: Callable[[], object], repeat: int, note: str = "") -> float:
    """Run `action` `repeat` times, each in a fresh app context; print the median and best."""
    durations = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        durations.append(time.perf_counter() - began)
    median = statistics.median(durations)
    print(
        f"  {label:<58} median {median * 1000:9.1f} ms   best {min(durations) * 1000:9.1f} ms"
        + (f"   {note}" if note else "")
    )
    return median


def percentile(values: list[float], share: float) -> float:
    """The value at that share of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def in_context(app: Flask, action: Callable[[], Any]) -> Callable[[], Any]:
    """`action` in its own app context: a fresh session, as a request or a job has."""

    def run() -> Any:
        with app.app_context():
            return action()

    return run


def refresh_runs(app: Flask, now: datetime) -> None:
    """(a) The first refresh, then the runner's steady runs."""
    began = time.perf_counter()
    with app.app_context():
        written = refresh_figures(now)
    first = time.perf_counter() - began
    print(f" (a) refresh_figures(): first run {first:.2f} s ({written:,} figures written)")
    timed(
        "every source read whole and computed (no write)",
        in_context(app, lambda: compute(now, first_open_week(now), {})),
        3,
    )
    timed(
        "the open weeks' sources read and computed (no write)",
        in_context(app, lambda: compute(now, first_open_week(now), stored_weeks())),
        5,
    )
    timed(
        "refresh_figures(), every five minutes (open weeks rewritten)",
        in_context(app, lambda: refresh_figures(now)),
        5,
    )
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(WeeklyFigure))
        open_from = first_open_week(now)
    print(f"  {stored:,} weekly figures stored; weeks from {open_from} are still open")


def page_times(client: Any) -> list[float]:
    """PAGE_REQUESTS requests of the page; their durations (seconds)."""
    durations = []
    for _ in range(PAGE_REQUESTS):
        began = time.perf_counter()
        response = client.get("/statistiques")
        durations.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    return durations


def page_requests(app: Flask) -> None:
    """(c) The statistics page and the CSV through the test client; the page again with the
    objects made so far frozen out of the garbage collector (`gc.freeze()`, what a server
    can do once warm): its slowest requests are full collections of a large heap."""
    client = app.test_client()
    if client.get("/statistiques").status_code == 404:
        print(" (c) GET /statistiques: no page yet; figures() alone:")
    else:
        for label, durations in (("", page_times(client)), (" after gc.freeze()", frozen(client))):
            print(
                f" (c) GET /statistiques × {PAGE_REQUESTS}{label}:"
                f" p50 {percentile(durations, 0.5) * 1000:.1f} ms,"
                f" p99 {percentile(durations, 0.99) * 1000:.1f} ms   target {TARGET_PAGE}"
            )
    timed("figures(12) alone (three reads)", in_context(app, lambda: figures(12)), 30)
    timed(
        "GET /statistiques.csv, written afresh",
        lambda: (app.extensions.pop("statistics_csv", None), client.get("/statistiques.csv")),
        3,
    )
    timed("GET /statistiques.csv, from its cache", lambda: client.get("/statistiques.csv"), 30)
    size = len(client.get("/statistiques.csv").data)
    print(f"  CSV: {size / 1e6:.1f} MB")


def frozen(client: Any) -> list[float]:
    """The page's times with every object made so far out of the collector's reach."""
    gc.collect()
    gc.freeze()
    try:
        return page_times(client)
    finally:
        gc.unfreeze()


def bench(uri: str, label: str) -> None:
    """Seed, then time (a), (b), (c)."""
    now = clock.now()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(uri, folder)
        quiet_logs()
        print(f"{label}:")
        seed(app, now)
        refresh_runs(app, now)
        began = time.perf_counter()
        with app.app_context():
            rows = measure_delays(now)
        print(
            f" (b) measure_delays(): {time.perf_counter() - began:.2f} s ({rows} rows: every"
            " département and France, every reason)"
        )
        page_requests(app)
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

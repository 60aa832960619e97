"""`make load`: the surge scenarios (SPEC §16) with Locust, headless and bounded in time,
against two gunicorn nodes on one PostgreSQL and one Redis, all on this machine.

Step 1, the citizens' mix (search, slots, bookings through the site's form and its waiting
room) with open-data reusers; step 2, five times as many citizens, with bots booking through
the API without ticket nor challenge. For each step it prints requests per second, p50 and
p99 per kind, the answers by status, bookings per second, the waiting page's p99, the time
citizens waited, the CPU the load generator used; then the overbookings found in the
database (must be 0). Figures are printed, never asserted: docs/performance.md keeps them.

Environment: BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL; required), LOAD_USERS
(citizens of step 1, 200), LOAD_SECONDS (each step, 30), LOAD_WORKERS (gunicorn workers per
node, 2), LOAD_CAPACITY (ADMISSION_CAPACITY, 150), LOAD_REDIS (redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_http import free_port, prepare, server_environment, stop_server  # noqa: E402
from bench_load import overbookings  # noqa: E402
from bench_next_slot import bench_app, postgresql_database, server_url  # noqa: E402

BIN = Path(sys.executable).parent
USERS = int(os.environ.get("LOAD_USERS", "200"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "30"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
CAPACITY = int(os.environ.get("LOAD_CAPACITY", "150"))
REDIS = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379/0")
KINDS = ("search", "slots", "form", "queue", "book", "open data", "bot slots", "bot book")


def start_node(port: int, env: dict[str, str], folder: Path) -> Any:
    """A node as deployed (gunicorn.conf.py: workers warmed up and their heap frozen)."""
    metrics = folder / f"metrics-{port}"
    metrics.mkdir()
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(WORKERS),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics)}  # fmt: skip
    with (folder / f"node-{port}.log").open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_up(port: int, seconds: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"node on port {port} did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def step(label: str, nodes: list[str], units: list[str], users: int, classes: list[str],
         folder: Path) -> None:  # fmt: skip
    """One Locust run; its figures."""
    prefix = folder / label.replace(" ", "_")
    status_file = folder / f"{label.replace(' ', '_')}.json"
    env = {**os.environ, "LOAD_NODES": " ".join(nodes), "LOAD_UNITS": json.dumps(units),
           "LOAD_STATUS_FILE": str(status_file)}  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "load" / "locustfile.py"), "--headless",
         "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{SECONDS}s",
         "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", *classes],
        env=env, cwd=ROOT, timeout=SECONDS + 120, check=False,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(f"{prefix}_stats.csv") as table:
        stats = {row["Name"]: row for row in csv.DictReader(table)}
    seen = json.loads(status_file.read_text()) if status_file.exists() else {}
    statuses: dict[str, dict[str, int]] = seen.get("statuses", {})
    total = stats.get("Aggregated", {})
    print(f"{label}: {users} users ({', '.join(classes)}), {SECONDS} s on {len(nodes)} nodes")
    print(f"  requests/s {float(total.get('Requests/s', 0)):.0f}; load generator CPU"
          f" {cpu:.0f} s of {elapsed:.0f} s")  # fmt: skip
    for kind in KINDS:
        row = stats.get(kind)
        codes = statuses.get(kind, {})
        if row is None and not codes:
            continue
        errors = sum(n for code, n in codes.items() if code == "0" or int(code) >= 500)
        line = f"  {kind:<10} {float(row['Requests/s']) if row else 0:7.1f}/s"
        if row:
            line += f"  p50 {row['50%']:>5} ms  p99 {row['99%']:>5} ms"
        print(f"{line}  5xx/errors {errors}  statuses {dict(sorted(codes.items()))}")
    booked = statuses.get("book", {}).get("303", 0)
    bots = statuses.get("bot book", {}).get("201", 0)
    print(f"  bookings by citizens: {booked} ({booked / SECONDS:.1f}/s); by bots: {bots}"
          f" ({bots / SECONDS:.1f}/s)")  # fmt: skip
    queue_ms = seen.get("queue_ms", [])
    waited = seen.get("waited", [])
    print(f"  waiting page: {len(queue_ms)} shown, p99 {percentile(queue_ms, 0.99):.1f} ms;"
          f" citizens waited p50 {percentile(waited, 0.5):.1f} s,"
          f" p99 {percentile(waited, 0.99):.1f} s")  # fmt: skip


def main() -> None:
    server = server_url()
    if not server:
        print("make load needs PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL")
        return
    with postgresql_database(server) as url, tempfile.TemporaryDirectory() as folder:
        sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://")
        units = prepare(url, sqlalchemy_url, folder)
        env = server_environment(url)
        # The waiting room as deployed (auto, on Redis), the rate limits on and shared, each
        # simulated client with its own address behind one trusted proxy.
        env.update(ADMISSION="auto", ADMISSION_CAPACITY=str(CAPACITY), ADMISSION_REDIS_URL=REDIS,
                   ADMISSION_PREFIX=f"rdv:load:{uuid.uuid4().hex}:", RATELIMIT_ENABLED="true",
                   RATELIMIT_STORAGE_URI=REDIS, TRUSTED_PROXIES="1",
                   BOOKING_EMAIL_VERIFICATION="false", LOG_FORMAT="json")  # fmt: skip
        ports = [free_port(), free_port()]
        nodes = [start_node(port, env, Path(folder)) for port in ports]
        try:
            for port in ports:
                wait_up(port)
            addresses = [f"http://127.0.0.1:{port}" for port in ports]
            print(f"two nodes of {WORKERS} workers × 4 threads, ADMISSION_CAPACITY={CAPACITY}")
            step("step 1, the mix", addresses, units, USERS, ["Citizen", "Reuser"], Path(folder))
            step("step 2, five times the demand, with bots", addresses, units, USERS * 5,
                 ["Citizen", "Reuser", "Bot"], Path(folder))  # fmt: skip
        finally:
            for node in nodes:
                stop_server(node)
        app = bench_app(sqlalchemy_url, folder)
        print(f"overbookings found in the database: {overbookings(app)}")


if __name__ == "__main__":
    main()

"""Benchmark: finding units from where one lives. Prints figures only.

On a fresh SQLite database (and PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL
names a server) made by the real commands (`db upgrade`, `units bootstrap`: reasons, the
gazetteer, the 3,111 units):

1. coverage: for every current commune of a département that has units, whether typing its
   name, as a citizen would, leads to units (the place itself, or a choice that lists it),
   nearest first; the same for every postcode; and, for comparison, how many a search of the
   units' own names and communes finds (the search before the gazetteer), on a sample;
2. in process (Flask test client): p50/p99 of `/api/v1/places` for what people type while
   typing (3 letters, 5, whole names, postcodes) and of the place search `/api/v1/units?q=`;
3. over HTTP (gunicorn, 2 workers): the same two, requests/s and p50/p99.

Run from the project root: `.venv/bin/python bench/bench_places.py`.
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["RATELIMIT_ENABLED"] = "false"

from bench_http import (  # noqa: E402
    BIN,
    free_port,
    load,
    server_environment,
    show,
    start_server,
    stop_server,
    wait_healthy,
)
from bench_next_slot import bench_app, postgresql_database, quiet_logs, server_url  # noqa: E402
from sqlalchemy import select  # noqa: E402

from booking.domain.places import place_key  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.models import Unit  # noqa: E402
from booking.services.places.gazetteer import INDEX  # noqa: E402
from booking.services.places.nearby import nearest  # noqa: E402
from booking.services.units.reading import UnitSearch, search_units  # noqa: E402

COMMUNES = ROOT / "data" / "communes.csv"
BEFORE_SAMPLE = 2000  # communes searched the old way (one database query each)


def percentiles(durations: list[float]) -> str:
    """`p50 … ms, p99 … ms` of seconds."""
    ordered = sorted(durations)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1e3:6.2f} ms   p99 {p99 * 1e3:6.2f} ms"


def prepare(database_url: str) -> None:
    """The schema and the data, by the commands an administrator runs."""
    for command in (["db", "upgrade"], ["units", "bootstrap", "data/units.csv"]):
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *command],
            cwd=ROOT,
            env=server_environment(database_url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def coverage(rows: list[dict[str, str]]) -> None:
    """How many communes and postcodes, typed, lead to units."""
    index = INDEX.get()
    served = set(db.session.scalars(select(Unit.department).where(Unit.active.is_(True))))
    communes = [r for r in rows if r["kind"] == "commune" and r["department"] in served]
    found = population = found_population = 0
    for row in communes:
        resolution = index.resolve(row["name"])
        meant = [resolution.place] if resolution.place else resolution.choices
        ok = any(place_key(entry.name) == place_key(row["name"]) for entry in meant)
        people = int(row["population"] or 0)
        population += people
        if ok:
            found += 1
            found_population += people
    print(
        f"  commune names typed: {found}/{len(communes)} find units"
        f" ({100 * found / len(communes):.1f} % of communes,"
        f" {100 * found_population / max(1, population):.1f} % of their population)"
    )
    postcodes = sorted({code for r in communes for code in r["postcodes"].split()})
    located = 0
    for postcode in postcodes:
        resolution = index.resolve(postcode)
        if resolution.point is not None:
            located += bool(nearest(resolution.point, 1)[1])
        else:  # a commune without a point: the units of its territory are shown
            located += resolution.place is not None and resolution.place.department in served
    print(
        f"  postcodes typed: {located}/{len(postcodes)} find units"
        f" ({100 * located / len(postcodes):.1f} %)"
    )
    sample = random.Random(20261124).sample(communes, min(BEFORE_SAMPLE, len(communes)))
    before = sum(1 for r in sample if search_units(UnitSearch(q=r["name"], limit=1))[1])
    before_codes = sum(
        1 for code in postcodes[:BEFORE_SAMPLE] if search_units(UnitSearch(q=code, limit=1))[1]
    )
    share, code_share = before / len(sample), before_codes / min(len(postcodes), BEFORE_SAMPLE)
    print(
        f"  for comparison, the units' own names and communes alone: {100 * share:.1f} %"
        f" of commune names, {100 * code_share:.1f} % of postcodes (samples)"
    )


def typed_queries(rows: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """What people type while typing (for suggestions), and whole places (for searches)."""
    rng = random.Random(20261124)
    names = [r["name"] for r in rng.sample(rows, 400)]
    codes = [r["postcodes"].split()[0] for r in rng.sample(rows, 100) if r["postcodes"]]
    typing = [n[:3] for n in names] + [n[:5] for n in names] + names + codes
    return typing, names[:200] + codes


def in_process(uri: str, folder: str, rows: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """Coverage, then latencies through the Flask test client."""
    app = bench_app(uri, folder)
    quiet_logs()
    typing, places = typed_queries(rows)
    with app.app_context():
        started = time.perf_counter()
        INDEX.get()
        print(f"  index of the gazetteer built in {time.perf_counter() - started:.2f} s")
        coverage(rows)
    client = app.test_client()
    for path in ("/api/v1/places?q=orl", "/api/v1/units?q=orleans&motif=signalement"):
        client.get(path)  # warm
    suggestions = []
    for query in typing:
        began = time.perf_counter()
        client.get(f"/api/v1/places?q={quote(query)}")
        suggestions.append(time.perf_counter() - began)
    print(
        f"  /api/v1/places (suggestions), {len(typing)} queries:    {percentiles(suggestions)}"
        "   (target p99 < 20 ms)"
    )
    searches = []
    for query in places:
        began = time.perf_counter()
        client.get(f"/api/v1/units?q={quote(query)}&motif=signalement")
        searches.append(time.perf_counter() - began)
    label = f"/api/v1/units?q= (place search, next slots), {len(places)} queries:"
    print(f"  {label} {percentiles(searches)}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return typing, places


def over_http(database_url: str, folder: str, typing: list[str], places: list[str]) -> None:
    """The same two under gunicorn, from parallel clients."""
    port = free_port()
    log = Path(folder) / "gunicorn.log"
    server = start_server(database_url, port, log)
    try:
        wait_healthy(server, port, log)
        suggestions = [f"/api/v1/places?q={quote(q)}" for q in typing]
        show(load("  /api/v1/places over HTTP", port, suggestions, server.pid))
        searches = [f"/api/v1/units?q={quote(q)}&motif=signalement" for q in places]
        show(load("  /api/v1/units?q= over HTTP", port, searches, server.pid))
    finally:
        stop_server(server)


def bench(database_url: str, sqlalchemy_url: str, folder: str, label: str) -> None:
    """Everything, on one database."""
    print(f"{label}:")
    prepare(database_url)
    with COMMUNES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    typing, places = in_process(sqlalchemy_url, folder, rows)
    over_http(database_url, folder, typing, places)


def main() -> None:
    """SQLite, then PostgreSQL when a server is named."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        bench(url, url, folder, "SQLite")
    server = server_url()
    if server is None:
        print("PostgreSQL: not measured (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
        return
    with postgresql_database(server) as url, tempfile.TemporaryDirectory() as folder:
        bench(url, url.replace("postgresql://", "postgresql+psycopg://"), folder, "PostgreSQL")


if __name__ == "__main__":
    main()

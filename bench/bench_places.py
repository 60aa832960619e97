"""Benchmark: finding units from where one lives. Prints figures only.

On a fresh SQLite database (and PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL
names a server) made by the real commands (`db upgrade`, `units bootstrap`: reasons, the
gazetteer, the 3,111 units):

1. coverage: for every current commune of a département that has units, written each way
   people write it (name, plain, St, La Poste, name+postcode, postcode+name, one typo),
   whether it leads to a first unit within 50 km of the commune (or to a choice that lists
   it); every postcode; every unit's point; overseas, whether the first unit is of the
   place's own territory; each next to its target;
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
from sqlalchemy import func, select  # noqa: E402

from booking.extensions import db  # noqa: E402
from booking.models import Unit  # noqa: E402
from booking.services.places.gazetteer import INDEX  # noqa: E402
from booking.services.places.nearby import (  # noqa: E402
    POINTS,
    approximate_point,
    nearest,
    territory,
)
from tests.support import place_forms  # noqa: E402

COMMUNES = ROOT / "data" / "communes.csv"


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


TARGETS = {  # the share of communes each form must lead to their units (issue 26)
    "name": None,
    "plain": None,
    "St": None,
    "La Poste": 98.0,
    "name+postcode": 99.0,
    "postcode+name": 99.0,
    "typo": 90.0,
}


def coverage() -> None:
    """Every commune of a département with units, written each way people write it: whether
    it leads to a first unit within 50 km (or to a choice that lists it); every postcode;
    overseas and Corsica, whether the first unit is of the place's own territory."""
    index = INDEX.get()
    served = set(db.session.scalars(select(Unit.department).where(Unit.active.is_(True))))
    communes = [e for e in index.entries if e.kind == "commune" and e.department in served]
    first = place_forms.first_unit_finder()
    started = time.perf_counter()
    tallies = place_forms.coverage(index, communes, first)
    for form, target in TARGETS.items():
        tally = tallies[form]
        aim = f"target ≥ {target:.1f} %" if target else "no target"
        met = "" if target is None else ("  met" if tally.share >= target else "  MISSED")
        print(
            f"  {form:>14}: {tally.led:6d}/{tally.asked:6d} = {tally.share:6.2f} %"
            f"  (alone {100 * tally.alone / max(1, tally.asked):5.1f} %)   {aim}{met}"
        )
    postcodes = place_forms.postcode_coverage(index, communes, first)
    met = "met" if postcodes.share >= 99.5 else "MISSED"
    print(
        f"  {'postcode':>14}: {postcodes.led:6d}/{postcodes.asked:6d} = {postcodes.share:6.2f} %"
        f"                   target ≥ 99.5 %  {met}"
    )
    print(f"  (every form of {len(communes)} communes in {time.perf_counter() - started:.0f} s)")
    units = POINTS.get()
    active = db.session.scalar(select(func.count(Unit.id)).where(Unit.active.is_(True)))
    print(
        f"  units with a point: {len(units.ids)}/{active}"
        f" ({len(units.approximate)} approximate)   target: all"
    )
    faraway = [e for e in communes if territory(e.department) != "metropole"]
    wrong = 0
    for entry in faraway:
        found = index.resolve(entry.label)
        point = found.point or approximate_point(
            index, entry.insee, entry.postcodes[0] if entry.postcodes else "", entry.department
        )
        page = nearest(point, 1, department=entry.department)[0] if point else []
        wrong += not page or units.territories[list(units.ids).index(page[0][0])] != territory(
            entry.department
        )
    print(
        f"  overseas and Corsican communes whose first unit is of their own territory:"
        f" {len(faraway) - wrong}/{len(faraway)}   target: all"
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
        coverage()
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

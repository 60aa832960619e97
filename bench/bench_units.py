"""Benchmark: import and export of the whole default dataset. Prints figures, asserts nothing.

Runs on a temporary SQLite database, and on PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) names a server: a fresh database is created there and dropped after.

Then the import's time and peak memory, each in a fresh process (its peak resident set is
the import's own): for the 3,111-unit file and for a generated file of 50,000 rows (the
dataset's rows repeated under new identifiers), into an empty database, then again.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking import create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.services.units.exporting import export_csv, geojson  # noqa: E402
from booking.services.units.importing import import_units  # noqa: E402

NEWLINE = b"\n"
DATASET = (ROOT / "data" / "units.csv").read_bytes()
LARGE_ROWS = 50_000
MEMORY_TARGET_MIB = 300  # at 50,000 rows


def generated(rows: int) -> bytes:
    """The dataset's rows repeated under new identifiers, up to `rows` rows."""
    header, *lines = DATASET.rstrip(b"\r\n").split(b"\n")
    body = [b"G%d;" % n + lines[n % len(lines)].split(b";", 1)[1] for n in range(rows)]
    return b"\n".join([header, *body]) + b"\n"


def _import_in_child(uri: str, path: str, fresh: bool, out: Any) -> None:
    """In a spawned process: import the file; send back seconds, peak MiB, the report."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "INSTANCE_PATH": folder}
        )
        data = Path(path).read_bytes()
        with app.app_context():
            if fresh:
                db.drop_all()
                db.create_all()
            began = time.perf_counter()
            report = import_units(data, force=True)
            took = time.perf_counter() - began
            db.session.remove()
            db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((took, peak, report.created, report.updated, report.unchanged))


def memory(uri: str, label: str) -> None:
    """Import time and peak memory of the real file and of a 50,000-row one."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        files = {"3,111 units": DATASET, f"{LARGE_ROWS:,} rows": generated(LARGE_ROWS)}
        for name, data in files.items():
            path = Path(folder) / "units.csv"
            path.write_bytes(data)
            for fresh in (True, False):
                queue = context.Queue()
                child = context.Process(
                    target=_import_in_child, args=(uri, str(path), fresh, queue)
                )
                child.start()
                took, peak, created, updated, unchanged = queue.get(timeout=1800)
                child.join()
                what = "import into an empty database" if fresh else "re-import"
                target = f"   target < {MEMORY_TARGET_MIB} MiB" if name.startswith("50") else ""
                print(
                    f"  {label} {name:<12} {what:<30} {took:7.1f} s, peak {peak:6.0f} MiB"
                    f" ({created} created, {updated} updated, {unchanged} unchanged){target}"
                )


def timed(label: str, action: Callable[[], object], repeat: int = 3) -> None:
    """Run `action` a few times; print the median and the best."""
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    print(
        f"  {label:<42} median {statistics.median(durations) * 1000:8.1f} ms"
        f"   best {min(durations) * 1000:8.1f} ms"
    )


def bench(uri: str, label: str) -> None:
    """Import into an empty database, re-import unchanged, export CSV and GeoJSON."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "INSTANCE_PATH": folder}
        )
        with app.app_context():
            print(f"{label}: {DATASET.count(NEWLINE) - 1} units")

            def first_import() -> None:
                db.drop_all()
                db.create_all()
                import_units(DATASET)

            timed("import into an empty database", first_import)
            timed("re-import, nothing changed", lambda: import_units(DATASET))
            timed("export CSV (official layout)", export_csv)
            timed("export GeoJSON", geojson)
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    """SQLite always, PostgreSQL when a server is named."""
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.sqlite3", "SQLite")
    print("Import time and peak resident memory, each import in a fresh process:")
    with tempfile.TemporaryDirectory() as folder:
        memory(f"sqlite:///{folder}/memory.sqlite3", "SQLite")
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if server:
        import psycopg

        name = f"booking_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            bench(server.rsplit("/", 1)[0] + "/" + name, "PostgreSQL")
            memory(server.rsplit("/", 1)[0] + "/" + name, "PostgreSQL")
        finally:
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        print("PostgreSQL: not measured (set BENCH_DATABASE_URL=postgresql://…)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the benchmark process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

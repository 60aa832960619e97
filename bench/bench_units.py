"""Benchmark: import and export of the whole default dataset. Prints figures, asserts nothing.

Runs on a temporary SQLite database, and on PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) names a server: a fresh database is created there and dropped after.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking import create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.services.units_export import export_csv, geojson  # noqa: E402
from booking.services.units_import import import_units  # noqa: E402

NEWLINE = b"\n"
DATASET = (ROOT / "data" / "units.csv").read_bytes()


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
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if server:
        import psycopg

        name = f"booking_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            bench(server.rsplit("/", 1)[0] + "/" + name, "PostgreSQL")
        finally:
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        print("PostgreSQL: not measured (set BENCH_DATABASE_URL=postgresql://…)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the benchmark process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

"""Benchmark: HTTP throughput and latency under gunicorn, on loopback. Prints figures only.

For SQLite, and for PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server:

1. prepare a fresh database with the real commands (`flask --app wsgi db upgrade`, then
   `flask --app wsgi units bootstrap data/units.csv`) and add confirmed bookings (3 on the
   first slots of 60 of the units queried, 300 on a typical unit);
2. start `gunicorn wsgi:app --workers 2 --threads 4` (the `make run` setting) on a free
   127.0.0.1 port, with APP_ENV=production and RATELIMIT_ENABLED=false (unless set: all the
   load comes from one address), and wait for /healthz (deadline 30 s);
3. run a closed-loop load generator: CLIENTS processes, one keep-alive http.client connection
   each (renewed every REQUESTS_PER_CONNECTION requests, so that the connections spread over
   the workers), every one sending its next request as soon as the previous answer is read;
   WARMUP s of warm-up, then DURATION s measured, first against /healthz, then against
   /api/v1/units/{id}/slots?motif=signalement cycling over UNITS different units;
4. print requests/s (2xx answers), p50/p95/p99 latency (all answers), errors (non-2xx or
   exceptions), the CPU used by the server (in all, and per request), by the load generator
   and by the whole machine (the rest is the database server, the kernel, other programs),
   and the ratio slots/trivial;
   stop gunicorn (its process group) in every case, and print the warnings and errors it
   logged.

The load generator runs on the same machine as the server and shares its cores: its CPU time
is printed so that the figures can be read with that in mind.

Run from the project root: `.venv/bin/python bench/bench_http.py`.
Environment: BENCH_HTTP_CLIENTS (16), BENCH_HTTP_DURATION (10), BENCH_HTTP_WARMUP (2).
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_next_slot import (  # noqa: E402
    active_public_ids,
    add_bookings,
    bench_app,
    postgresql_database,
    server_url,
    skipped_postgresql,
    typical_unit,
)

from booking.extensions import db  # noqa: E402

BIN = ROOT / ".venv" / "bin"
CLIENTS = int(os.environ.get("BENCH_HTTP_CLIENTS", "16"))
DURATION = float(os.environ.get("BENCH_HTTP_DURATION", "10"))
WARMUP = float(os.environ.get("BENCH_HTTP_WARMUP", "2"))
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound on top of the duration
# A connection stays with the worker that accepted it: renewing it now and then spreads the
# clients over the workers instead of leaving the first draw in place for the whole run.
REQUESTS_PER_CONNECTION = 100
REQUEST_TIMEOUT = 15.0  # seconds, per socket operation
WORKERS, THREADS = 2, 4
UNITS = 300  # distinct units queried by the slots run
BOOKED_UNITS = 60  # of which this many have a few bookings (one more has 300)
TRIVIAL = "/healthz"
SLOTS = "/api/v1/units/{}/slots?motif=signalement"


@dataclass
class Run:
    """What one load run measured."""

    label: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    server_cpu: float
    worker_cpu: list[float]
    machine_cpu: float
    statuses: dict[int, int]
    bytes_read: int

    @property
    def rate(self) -> float:
        """Requests answered with a 2xx status per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, share: float) -> float:
        """Latency (s) below which `share` of the measured requests were answered."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(database_url: str) -> dict[str, str]:
    """The environment of the commands and of the server: production, this database."""
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
    # A production start wants 32 random bytes (booking.keys).
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_hex(32), APP_ENV="production")
    env["PRE_DECLARATION_KEYS"] = Fernet.generate_key().decode()
    # All the load comes from one address: the per-address limits would answer 429 at once.
    env.setdefault("RATELIMIT_ENABLED", "false")
    # Nor the proof-of-work challenge, which `auto` asks of anonymous bookings above 60 a
    # minute: a person's browser solves it in about a second, the load generator would not.
    env.setdefault("BOOKING_CHALLENGE", "off")
    return env


def prepare(database_url: str, sqlalchemy_url: str, folder: str) -> list[str]:
    """Schema, reasons, units (CLI), then bookings; the unit ids the slots run will query."""
    env = server_environment(database_url)
    for command in (["db", "upgrade"], ["units", "bootstrap", "data/units.csv"]):
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    rng = random.Random(20260316)
    app = bench_app(sqlalchemy_url, folder)
    with app.app_context():
        heavy = typical_unit()
        chosen = rng.sample([p for p in active_public_ids() if p != heavy], UNITS - 1)
        add_bookings(rng, sorted(rng.sample(chosen, BOOKED_UNITS)), 3, [heavy], 300)
        db.session.remove()
        db.engine.dispose()
    ids = [heavy, *chosen]
    rng.shuffle(ids)
    return ids


def start_server(database_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """gunicorn in its own process group (so that it can be stopped with all its workers)."""
    log = log_path.open("wb")
    try:
        return subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--timeout",
                "60",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=server_environment(database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
    with contextlib.suppress(ProcessLookupError):  # workers left behind by a dead master
        os.killpg(process.pid, signal.SIGKILL)


def wait_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> float:
    """Seconds until /healthz answers 200; raises after 30 s or if the server exits."""
    began = time.monotonic()
    deadline = began + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{tail(log_path)}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", TRIVIAL)
            if connection.getresponse().status == 200:
                connection.close()
                return time.monotonic() - began
            connection.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not healthy after 30 s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def group_cpu_seconds(pgid: int) -> dict[int, float]:
    """User + system CPU seconds of each live process of a process group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid pgrp session ... utime (12th) stime (13th).
        if int(fields[2]) == pgid:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle by the whole machine since boot, all cores (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def client(
    port: int, paths: list[str], offset: int, warm_until: float, stop_at: float, out: object
) -> None:
    """One keep-alive client: requests back to back until `stop_at` (wall clock, monotonic)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = requests = bytes_read = 0
    cpu_start: float | None = None
    connection: http.client.HTTPConnection | None = None
    index = offset
    for serial in range(1, MAX_REQUESTS_PER_CLIENT + 1):
        began = time.monotonic()
        if began >= stop_at:
            break
        if cpu_start is None and began >= warm_until:
            cpu_start = time.process_time()
        path = paths[index % len(paths)]
        index += 1
        status = 0
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            status = response.status
            if response.will_close or serial % REQUESTS_PER_CONNECTION == 0:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            if connection is not None:
                connection.close()
            connection = None
            body = b""
        ended = time.monotonic()
        if began >= warm_until and ended <= stop_at:
            requests += 1
            bytes_read += len(body)
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(ended - began)
            if not 200 <= status < 300:
                errors += 1
    if connection is not None:
        connection.close()
    cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
    out.put((requests, errors, latencies, cpu, statuses, bytes_read))  # type: ignore[attr-defined]


def load(label: str, port: int, paths: list[str], pgid: int) -> Run:
    """CLIENTS clients for WARMUP + DURATION seconds; what they measured after the warm-up."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = time.monotonic() + 0.5  # time for every process to be forked
    warm_until, stop_at = start + WARMUP, start + WARMUP + DURATION
    processes = [
        context.Process(
            target=client,
            args=(port, paths, index * len(paths) // CLIENTS, warm_until, stop_at, queue),
        )
        for index in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    time.sleep(max(0.0, warm_until - time.monotonic()))
    server_before, machine_before = group_cpu_seconds(pgid), machine_busy_seconds()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    server_after = group_cpu_seconds(pgid)
    per_process = sorted(
        (server_after[pid] - server_before.get(pid, 0.0) for pid in server_after if pid != pgid),
        reverse=True,
    )
    server_cpu = sum(server_after.values()) - sum(server_before.values())
    machine_cpu = machine_busy_seconds() - machine_before
    results = [queue.get(timeout=REQUEST_TIMEOUT + 30) for _ in processes]
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result[4].items():
            statuses[status] = statuses.get(status, 0) + count
    return Run(
        label=label,
        requests=sum(result[0] for result in results),
        errors=sum(result[1] for result in results),
        seconds=DURATION,
        latencies=[latency for result in results for latency in result[2]],
        client_cpu=sum(result[3] for result in results),
        server_cpu=server_cpu,
        worker_cpu=per_process,
        machine_cpu=machine_cpu,
        statuses=statuses,
        bytes_read=sum(result[5] for result in results),
    )


def show(run: Run) -> None:
    """One line of figures."""
    size = run.bytes_read / run.requests / 1024 if run.requests else 0
    rest = max(0.0, run.machine_cpu - run.server_cpu - run.client_cpu)  # database, kernel, others
    codes = ", ".join(
        f"{code or 'exception'}: {count}" for code, count in sorted(run.statuses.items())
    )
    print(
        f"  {run.label:<8} {run.rate:7.0f} req/s   p50 {run.percentile(0.50) * 1000:6.1f} ms"
        f"   p95 {run.percentile(0.95) * 1000:6.1f} ms   p99 {run.percentile(0.99) * 1000:6.1f} ms"
        f"   errors {run.errors}   {size:.1f} KiB/answer   ({codes})"
    )
    print(
        f"  {'':<8} CPU: server {run.server_cpu / run.seconds:.2f} cores"
        f" ({run.server_cpu / max(run.requests, 1) * 1000:.2f} ms/request; workers"
        f" {'/'.join(f'{cpu / run.seconds:.2f}' for cpu in run.worker_cpu)}),"
        f" load generator {run.client_cpu / run.seconds:.2f},"
        f" rest of the machine {rest / run.seconds:.2f} (database, kernel, other programs)"
    )


def log_findings(log_path: Path) -> None:
    """Warnings, errors and tracebacks the server wrote, if any."""
    keep = ("Traceback", "WARNING", "ERROR", "CRITICAL", "Exception", "TIMEOUT", "Error")
    found = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if any(k in line for k in keep)
    ]
    if found:
        print(f"  server log: {len(found)} warning/error lines, first ones:")
        for line in found[:10]:
            print(f"    {line}")
    else:
        print("  server log: no warning, error or traceback")


def bench(database_url: str, label: str) -> None:
    """Prepare, serve, load /healthz then the slots endpoint; always stop the server."""
    from booking.config import database_url as sqlalchemy_url

    with tempfile.TemporaryDirectory() as folder:
        began = time.monotonic()
        ids = prepare(database_url, sqlalchemy_url(database_url), folder)
        print(
            f"{label}: database ready in {time.monotonic() - began:.1f} s;"
            f" gunicorn --workers {WORKERS} --threads {THREADS} (gthread), {CLIENTS} keep-alive"
            f" clients (processes), {WARMUP:g} s warm-up + {DURATION:g} s measured per endpoint;"
            f" slots of {len(ids)} units ({BOOKED_UNITS + 1} with bookings)"
        )
        port = free_port()
        log_path = Path(folder) / "gunicorn.log"
        process = start_server(database_url, port, log_path)
        try:
            print(f"  server healthy after {wait_healthy(process, port, log_path):.1f} s")
            trivial = load("healthz", port, [TRIVIAL], process.pid)
            show(trivial)
            slots = load("slots", port, [SLOTS.format(unit_id) for unit_id in ids], process.pid)
            show(slots)
            ratio = slots.rate / trivial.rate if trivial.rate else float("nan")
            print(f"  ratio slots/trivial throughput (2xx answers): {ratio:.2f} (target >= 0.50)")
        finally:
            stop_server(process)
        log_findings(log_path)


def main() -> None:
    """SQLite always, PostgreSQL when a server is named."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    print(f"machine: {os.cpu_count()} logical CPUs, shared by the server and the load generator")
    before = machine_busy_seconds()
    time.sleep(1)
    idle_busy = machine_busy_seconds() - before
    if idle_busy > 0.2:
        print(f"WARNING: the machine was already busy ({idle_busy:.2f} cores) before the runs:")
        print("         other programs compete with the server; the figures will be low")
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

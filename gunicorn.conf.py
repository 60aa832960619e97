"""gunicorn settings (`gunicorn --config gunicorn.conf.py wsgi:app`); environment overrides.

Stateless web workers: everything shared lives in PostgreSQL (data, sessions are signed
cookies) and Redis (rate limits, RATELIMIT_STORAGE_URI). The job runner is a separate
process (`flask --app wsgi jobs run`), never started here.
"""

import gc
import multiprocessing
import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, 2 * multiprocessing.cpu_count())))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# The app logs each request itself, without query strings (manage links carry a secret).
accesslog = None
errorlog = "-"
# Behind a reverse proxy on another host, list its address (gunicorn's own X-Forwarded-*
# filter); the app's TRUSTED_PROXIES says how many proxies to believe.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No --preload: each worker opens its own database connections (never shared across fork).
preload_app = False

# Prometheus multiprocess mode: the workers, and the job runner of the same machine when
# given the same PROMETHEUS_MULTIPROC_DIR, write their samples to a shared folder that
# /metrics adds up.
metrics_folder = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(os.getcwd(), "instance", "prometheus")
)


def on_starting(server: object) -> None:
    """Create the metrics folder; drop the files of processes that no longer run; say when
    the rate limits are counted by each worker apart."""
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if storage.startswith("memory://") and workers > 1:
        server.log.warning(
            "RATELIMIT_STORAGE_URI est en mémoire avec %d workers : chacun compte à part, et"
            " les limites sont %d fois plus larges qu'annoncé. Indiquez un Redis"
            " (redis://…) partagé par les workers et les machines.",
            workers,
            workers,
        )
    os.makedirs(metrics_folder, exist_ok=True)
    for name in os.listdir(metrics_folder):
        pid = name.rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            os.remove(os.path.join(metrics_folder, name))


def child_exit(server: object, worker: Any) -> None:
    """Forget the live gauges of a worker that exited."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Build the worker's search indexes (places, units' points) before its first request."""
    from booking.services.places.search import warm_up

    with worker.wsgi.app_context():
        warm_up()
    # What is built by now (the app, its indexes, the gazetteer) lives as long as the worker:
    # moved out of the garbage collector's reach, its full collections stop walking it
    # (they made the statistics page's p99 four times its p50; docs/performance.md).
    gc.freeze()
    worker.log.info("Worker ready: %s", worker.pid)

"""Prometheus metrics, right under several gunicorn workers (multiprocess mode).

With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py does it), every worker and the job
runner of the machine write their samples there and `/metrics` adds them up. Outbox
figures are read from the database at scrape time, so they hold across machines too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from booking import clock
from booking.config import ConfigurationError
from booking.extensions import db
from booking.models import EntryStatus, OutboxMessage, RunnerHeartbeat, WaitlistEntry

bp = Blueprint("metrics", __name__)

BOOKINGS = Counter("booking_bookings_total", "Rendez-vous pris", ["channel"])
CANCELLATIONS = Counter("booking_cancellations_total", "Rendez-vous annulés", ["by"])
ORIENTATION = Counter(
    "booking_orientation_outcomes_total", "Issues atteintes par l'orientation", ["outcome"]
)
WAITLIST = Counter(
    "booking_waitlist_events_total",
    "Liste d'attente : inscriptions confirmées, offres faites, acceptées, expirées, retirées",
    ["event"],
)
CHALLENGES = Counter(
    "booking_challenges_total", "Défis de preuve de travail : émis, résolus, refusés", ["outcome"]
)
# The waiting room's, labelled by its mode (`on` or `auto`): a metric without labels would
# open its samples file at import, before the check of PROMETHEUS_MULTIPROC_DIR can speak.
ADMITTED = Counter("booking_admission_admitted_total", "File d'attente : parcours admis", ["mode"])
QUEUE_WAIT = Histogram(
    "booking_admission_wait_seconds",
    "File d'attente : attente entre le ticket et l'admission",
    ["mode"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
QUEUE_LENGTH = Gauge(
    "booking_admission_waiting",
    "File d'attente : tickets en attente (vus par ce processus en dernier)",
    ["mode"],
    multiprocess_mode="mostrecent",
)
EMAILS = Counter("booking_emails_total", "Courriels traités par le job runner", ["outcome"])
LATENCY = Histogram(
    "booking_request_seconds",
    "Durée des requêtes HTTP",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class DatabaseCollector(Collector):
    """What only the database knows, read when scraped: whether it answers, the outbox's
    backlog, and how long ago the active job runner last said it was alive."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges; `booking_database_up` 0 alone when the database does not answer."""
        try:
            pending, oldest = db.session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.dropped_at.is_(None)
                )
            ).one()
            beat = db.session.scalar(select(func.max(RunnerHeartbeat.seen_at)))
            waiting = db.session.scalar(
                select(func.count(WaitlistEntry.id)).where(
                    WaitlistEntry.status == EntryStatus.WAITING
                )
            )
        except SQLAlchemyError:
            with contextlib.suppress(SQLAlchemyError):
                db.session.rollback()
            yield GaugeMetricFamily("booking_database_up", "Base de données joignable", value=0)
            return
        now = clock.now()
        yield GaugeMetricFamily("booking_database_up", "Base de données joignable", value=1)
        yield GaugeMetricFamily("booking_outbox_pending", "Courriels en attente", value=pending)
        yield GaugeMetricFamily(
            "booking_outbox_oldest_seconds",
            "Âge du plus ancien courriel en attente",
            value=_age(oldest, now),
        )
        yield GaugeMetricFamily(
            "booking_waitlist_waiting", "Personnes sur la liste d'attente", value=waiting or 0
        )
        yield GaugeMetricFamily(
            "booking_jobs_heartbeat_age_seconds",
            "Secondes depuis le dernier signe de vie du job runner actif (NaN : jamais vu)",
            value=_age(beat, now) if beat is not None else math.nan,
        )


def _age(moment: datetime | None, now: datetime) -> float:
    """Seconds since an instant (SQLite gives it back naive, in UTC); 0 for none."""
    if moment is None:
        return 0.0
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def init_app(app: Flask) -> None:
    """Serve /metrics to the allowed addresses (requests are timed by booking.web.envelope).

    In multiprocess mode the samples folder must exist and be writable: otherwise every
    sample would fail, request after request; the start stops here instead, saying why."""
    check_samples_folder(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
    app.register_blueprint(bp)


def check_samples_folder(folder: str) -> None:
    """ConfigurationError unless `folder` (when given) is a writable folder."""
    if not folder:
        return
    if not os.path.isdir(folder):
        raise ConfigurationError(
            f"PROMETHEUS_MULTIPROC_DIR désigne « {folder} », qui n'existe pas : créez ce dossier"
            " (gunicorn.conf.py le crée au démarrage) ou retirez la variable."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"PROMETHEUS_MULTIPROC_DIR désigne « {folder} », où ce processus ne peut pas écrire :"
            " donnez-lui les droits, ou choisissez un autre dossier."
        )


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus exposition, for the monitoring network only."""
    if not _allowed(request.remote_addr or ""):
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for metric in (BOOKINGS, CANCELLATIONS, EMAILS, LATENCY, ORIENTATION, WAITLIST, CHALLENGES):
            registry.register(metric)
    registry.register(DatabaseCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _allowed(address: str) -> bool:
    """Loopback and the networks listed in METRICS_ALLOWED_NETWORKS."""
    networks = ["127.0.0.0/8", "::1/128", *current_app.config["METRICS_ALLOWED_NETWORKS"]]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)

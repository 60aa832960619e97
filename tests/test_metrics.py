"""Prometheus metrics add up the samples of every gunicorn worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from booking.models import Unit
from booking.paths import ROOT
from tests.support.server import Server

ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of an exposition."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line) or re.match(rf"^{name} (\S+)$", line)
        if not match:
            continue
        if match.lastindex == 1 and not labels:
            return float(match.group(1))
        if match.lastindex == 2 and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    raise AssertionError(f"{name}{labels} not found")


def test_counts_add_up_over_four_workers(
    app: Flask, database_uri: str, tmp_path: Path, create_unit: Callable[..., Unit]
) -> None:
    create_unit(public_id="ORNEX", desks=5, hours=ALWAYS_OPEN)
    server = Server(
        database_uri,
        tmp_path / "instance",
        workers=4,
        extra_env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")},
    )
    (tmp_path / "prometheus").mkdir(exist_ok=True)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:  # at once: several workers answer
            answers = list(pool.map(lambda _: server.request("GET", "/api/v1/motifs"), range(40)))
        assert {status for status, _ in answers} == {200}
        _, slots = server.request("GET", "/api/v1/units/ORNEX/slots?motif=otv")
        for n, slot in enumerate(slots["slots"][4:7]):  # ahead of the notice window
            status, _ = server.request(
                "POST",
                "/api/v1/bookings",
                {
                    "unit_id": "ORNEX",
                    "motif": "otv",
                    "start": slot["start"],
                    "name": f"Personne {n}",
                    "email": f"p{n}@example.org",
                },
            )
            assert status == 201
        status, body = server.request("GET", "/metrics")
        assert status == 200
        text = body.decode()
        assert (
            sample(
                text,
                "booking_request_seconds_count",
                endpoint="api.motifs",
                method="GET",
                status="200",
            )
            == 40
        )
        assert sample(text, "booking_bookings_total", channel="api") == 3
        assert sample(text, "booking_outbox_pending") == 3
        assert sample(text, "booking_outbox_oldest_seconds") >= 0
        pids = {
            name.rsplit("_", 1)[-1]
            for name in (p.stem for p in (tmp_path / "prometheus").glob("histogram_*.db"))
        }
        assert len(pids) > 1  # several workers did answer
    finally:
        server.stop()


def test_metrics_are_not_public(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_a_missing_samples_folder_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    """Not a traceback on every request: the process does not start, and says why."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "absent"),
    }
    started = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert f"PROMETHEUS_MULTIPROC_DIR désigne « {tmp_path / 'absent'} », qui n'existe pas" in last


def test_the_latency_labels_take_bounded_values_whatever_the_client_sends(
    client: FlaskClient,
) -> None:
    """A client inventing methods and paths cannot grow the metrics without end: an unknown
    method is counted as "autre", an unknown path under "inconnu"."""
    from booking.metrics import LATENCY

    for n in range(5):
        assert client.open("/healthz", method=f"INVENTE{n}").status_code == 405
        assert client.get(f"/nulle-part-{n}").status_code == 404
    labels = {
        (sample.labels["endpoint"], sample.labels["method"])
        for metric in LATENCY.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    }
    assert ("public.healthz", "autre") in labels or ("inconnu", "autre") in labels
    assert ("inconnu", "GET") in labels
    assert not any(method.startswith("INVENTE") for _, method in labels)
    assert not any("nulle-part" in endpoint for endpoint, _ in labels)

"""Load scenarios for `make load` (SPEC §16), run headless by load/run.py against two nodes.

- Citizen: looks for a place (40 % of its requests), a unit's slots (35 %), then books
  through the site's form (25 %): the form's page (a ticket of the waiting room; the
  waiting page while it waits, reloaded as its refresh says), then the form sent, and now
  and then cancels. Each citizen uses one node, as a balancer's sticky session would.
- Bot: slot lists and bookings through the API as fast as it can, with no ticket and no
  challenge solution.
- Reuser: the open data (CSV and GeoJSON) with conditional GET.

Every answer is counted by step and status in LOAD_STATUS_FILE (JSON) at the end; only
5xx and transport errors are failures for Locust.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from locust import HttpUser, between, constant, events, task

NODES = os.environ.get("LOAD_NODES", "http://127.0.0.1:8000").split()
UNITS = json.loads(os.environ.get("LOAD_UNITS", '["01281-01"]'))


def _queries() -> list[str]:
    """What people type, drawn from the communes as many times as they have inhabitants
    (a thousandth): "45000 Orléans", "Orléans", "45000"."""
    found: list[str] = []
    with open(Path(__file__).resolve().parent.parent / "data" / "communes.csv") as table:
        for row in csv.DictReader(table):
            postcode = (row["postcodes"].split() or [""])[0]
            forms = [row["name"], f"{postcode} {row['name']}", postcode]
            found.extend(forms[n % 3] for n in range(max(1, int(row["population"] or 0) // 1000)))
    return found


QUERIES = _queries()
MOTIF = "signalement"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REFERENCE = re.compile(r"/rendez-vous/([A-Z0-9-]+)/")
STATUSES: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
WAITED: list[float] = []
QUEUE_PAGE_MS: list[float] = []  # how long the waiting page took to answer
_LOCK = threading.Lock()


@events.request.add_listener
def _count(name: str, response: Any, exception: Any, **_: Any) -> None:
    status = getattr(response, "status_code", 0) if exception is None or response else 0
    with _LOCK:
        STATUSES[name][int(status or 0)] += 1


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    path = os.environ.get("LOAD_STATUS_FILE")
    if path:
        with open(path, "w") as out:
            json.dump({"statuses": STATUSES, "waited": WAITED, "queue_ms": QUEUE_PAGE_MS}, out)


def _as_client(user: HttpUser) -> None:
    """One node for the whole visit (a sticky balancer), and an address of its own, sent as
    a proxy would (the nodes trust one proxy): the per-address limits then hold each
    simulated client, not the load generator's one loopback address."""
    user.client.base_url = random.choice(NODES)
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    user.client.headers["X-Forwarded-For"] = address


def _judge(response: Any) -> None:
    """Only the server's failures are failures: 409, 422 and 429 are answers."""
    if response.status_code >= 500 or response.status_code == 0:
        response.failure(f"HTTP {response.status_code}")
    else:
        response.success()


class Citizen(HttpUser):
    host = NODES[0]
    weight = 10
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        _as_client(self)

    @task(40)
    def search(self) -> None:
        with self.client.get(
            f"/api/v1/units?q={quote(random.choice(QUERIES))}&motif={MOTIF}&limit=20",
            name="search",
            catch_response=True,
        ) as response:
            _judge(response)

    @task(35)
    def slots(self) -> None:
        with self.client.get(
            f"/api/v1/units/{random.choice(UNITS)}/slots?motif={MOTIF}",
            name="slots",
            catch_response=True,
        ) as response:
            _judge(response)

    @task(25)
    def book(self) -> None:
        unit = random.choice(UNITS)
        answer = self.client.get(f"/api/v1/units/{unit}/slots?motif={MOTIF}", name="slots")
        if answer.status_code != 200 or not answer.json()["slots"]:
            return
        start = random.choice(answer.json()["slots"][:40])["start"]
        form = f"/unites/{unit}/rendez-vous?motif={MOTIF}&debut={start.replace('+', '%2B')}"
        began = time.monotonic()
        while True:
            with self.client.get(form, name="form", catch_response=True) as page:
                _judge(page)
                if "file d'attente" not in page.text and "file d&#39;attente" not in page.text:
                    break
                pause = int(page.headers.get("Retry-After", "5"))
            with _LOCK:
                STATUSES["queue"][200] += 1
                QUEUE_PAGE_MS.append(page.elapsed.total_seconds() * 1000)
            if time.monotonic() - began > 120:
                return  # gave up waiting
            time.sleep(pause)
        waited = time.monotonic() - began
        found = CSRF.search(page.text)
        if not found:
            return
        with _LOCK:
            WAITED.append(waited)
        data = {
            "csrf_token": found.group(1),
            "debut": start,
            "name": "Charge Test",
            "email": f"c{random.getrandbits(48):x}@example.org",
        }
        with self.client.post(
            f"/unites/{unit}/rendez-vous?motif={MOTIF}",
            data=data,
            name="book",
            allow_redirects=False,
            catch_response=True,
        ) as done:
            _judge(done)


class Bot(HttpUser):
    host = NODES[0]
    weight = 2
    wait_time = constant(0)

    def on_start(self) -> None:
        _as_client(self)

    @task
    def grab(self) -> None:
        unit = random.choice(UNITS)
        with self.client.get(
            f"/api/v1/units/{unit}/slots?motif={MOTIF}", name="bot slots", catch_response=True
        ) as answer:
            _judge(answer)
        if answer.status_code != 200 or not answer.json().get("slots"):
            return
        body = {
            "unit_id": unit,
            "motif": MOTIF,
            "start": answer.json()["slots"][0]["start"],
            "name": "Robot Revendeur",
            "email": f"r{random.getrandbits(48):x}@example.org",
        }
        with self.client.post(
            "/api/v1/bookings", json=body, name="bot book", catch_response=True
        ) as booked:
            _judge(booked)


class Reuser(HttpUser):
    host = NODES[0]
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        _as_client(self)
        self.tags: dict[str, str] = {}

    @task
    def open_data(self) -> None:
        for path in ("/opendata/units.csv", "/opendata/units.geojson"):
            headers = {"If-None-Match": self.tags[path]} if path in self.tags else {}
            with self.client.get(
                path, headers=headers, name="open data", catch_response=True
            ) as answer:
                _judge(answer)
                if answer.headers.get("ETag"):
                    self.tags[path] = answer.headers["ETag"]

"""The app served by gunicorn in worker processes, for tests that need a real HTTP server."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.keys import PRE_DECLARATION_KEY, SECRET_KEY
from tests.support.smtp import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """gunicorn on a free local port, on the test's database."""

    def __init__(
        self,
        database_uri: str,
        instance: Path,
        workers: int = 4,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.log = instance.parent / f"gunicorn-{self.port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_uri,
            "SECRET_KEY": SECRET_KEY,
            "PRE_DECLARATION_KEYS": PRE_DECLARATION_KEY,
            "INSTANCE_PATH": str(instance),
            "BASE_URL": f"http://127.0.0.1:{self.port}",
            # Bookings confirmed at once unless a test asks for the default (email first).
            "BOOKING_EMAIL_VERIFICATION": "false",
            **(extra_env or {}),
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "wsgi:app",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    "1",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers = workers
        wait_for(self._ready, timeout=30, step=0.1)

    def _ready(self) -> bool:
        """Every worker has started (gunicorn.conf.py logs it) and the health endpoint
        answers: a test that counts on several workers finds them all there."""
        if self.process.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + self.log.read_text(errors="replace"))
        if self.log.read_text(errors="replace").count("Worker ready:") < self.workers:
            return False
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One request on its own connection; (status, decoded JSON or None)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = json.dumps(body) if body is not None else None
            sent = {"Content-Type": "application/json"} if payload else {}
            connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
            response = connection.getresponse()
            data = response.read()
            kind = response.getheader("Content-Type", "")
            return response.status, json.loads(data) if "json" in kind else data
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop gunicorn and its workers."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

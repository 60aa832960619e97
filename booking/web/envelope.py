"""What every answer gets, in one WSGI layer around the app: a request id, the security
headers, one log line and the latency metric.

Done here rather than in Flask's before/after hooks, which reach the request through context
locals at every step: for the lightest endpoints those hooks cost more than the view itself.
The layer reads what it needs from the WSGI environ (the request object Flask made, for the
endpoint and the decoded path) and adds headers to the list `start_response` receives.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from booking.logs import REQUEST_ID
from booking.metrics import LATENCY
from booking.web import pressure

log = logging.getLogger("booking.requests")
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Scripts, styles, fonts and images from this origin only; no frames; forms post here only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "geolocation=(self), camera=(), microphone=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_SECURITY_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)
_UNTIMED = {"metrics.metrics"}  # scraping the metrics does not count in them
# The latency's labels take a bounded number of values, whatever clients send: an endpoint of
# the app (or "inconnu"), one of these methods (or "autre"), a status code.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_timers: dict[tuple[str, str, int], Any] = {}  # labels → the histogram's child, made once

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Envelope:
    """The WSGI layer; `https` adds HSTS to every answer (BASE_URL is https)."""

    def __init__(self, app: WSGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        began = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else secrets.token_hex(16)
        REQUEST_ID.set(request_id)
        https = self.https or environ.get("wsgi.url_scheme") == "https"
        answered: list[str] = []
        seen: list[Any] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(environ.get("werkzeug.request"))  # Flask forgets it once answered
            present = {name.lower() for name, _ in headers}
            if present.isdisjoint(_SECURITY_NAMES):  # the common case: a view set none
                headers.extend(SECURITY_HEADERS)
            else:
                headers.extend(pair for pair in SECURITY_HEADERS if pair[0].lower() not in present)
            if https and "strict-transport-security" not in present:
                headers.append(HSTS)
            headers.append(("X-Request-ID", request_id))
            answered.append(status)
            return start_response(status, headers, exc_info)

        result = self.app(environ, start)
        status = answered[-1] if answered else "500"
        self._record(environ, seen[-1] if seen else None, status, time.perf_counter() - began)
        return result

    @staticmethod
    def _record(environ: dict[str, Any], request: Any, status: str, elapsed: float) -> None:
        """The request's log line (path without its query string) and its latency."""
        rule = getattr(request, "url_rule", None)
        endpoint = rule.endpoint if rule is not None else ""
        if request is None and environ.get("PATH_INFO", "").startswith("/static/"):
            endpoint = "static"  # answered by WhiteNoise, before Flask
        path = request.path if request is not None else environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        code = int(status[:3])
        if endpoint != "static":
            pressure.note(elapsed)
        if endpoint not in _UNTIMED:
            labels = (endpoint or "inconnu", method if method in _METHODS else "autre", code)
            timer = _timers.get(labels)
            if timer is None:
                timer = _timers[labels] = LATENCY.labels(labels[0], labels[1], str(code))
            timer.observe(elapsed)
        log.info(
            "%s %s %s",
            method,
            path,
            code,
            extra={
                "fields": {
                    "method": method,
                    "path": path,
                    "status": code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "endpoint": endpoint,
                }
            },
        )


def init_app(app: Flask) -> None:
    """Wrap the app (static files included: WhiteNoise answers inside this layer)."""
    https = app.config["BASE_URL"].startswith("https://")
    app.wsgi_app = Envelope(app.wsgi_app, https)  # type: ignore[method-assign]

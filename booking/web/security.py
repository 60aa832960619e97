"""HTTP hardening: the client address behind a trusted proxy, rate limits, private pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from booking.extensions import csrf
from booking.services.bookings.contact import mailbox_key


def check_forms() -> None:
    """Before every view: Flask-WTF's CSRF check of a form sent (POST, PUT, PATCH, DELETE),
    views marked `csrf.exempt` left out. Flask-WTF's own hook looks up the exemptions first,
    on every request; reading pages and the API's GETs have nothing to check."""
    config = current_app.config
    if request.method in config["WTF_CSRF_METHODS"] and config["WTF_CSRF_ENABLED"]:
        csrf.protect(apply_exemptions=True)


def init_app(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies (the security headers
    are added by booking.web.envelope)."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Without this, every client would share the proxy's address in the rate limits; with
        # it and no proxy in front, a client could forge its address: hence a setting.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def limit(name: str) -> str:
    """A rate limit from the configuration (`RATE_LIMIT_<NAME>`), read at request time."""
    return str(current_app.config[f"RATE_LIMIT_{name}"])


def email_key() -> str:
    """Count bookings per mailbox (victim+1@… is victim@…) as well as per client address."""
    data: Any = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email", "") if hasattr(data, "get") else ""
    return f"email:{mailbox_key(str(email))}"


def keep_private(response: Response) -> Response:
    """A page whose URL holds a secret: no Referer to other sites, no copy in any cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response

"""Flask's signed-cookie sessions, with the signer made once per secret instead of at every
request (Flask builds a new one each time it opens or saves a session), no cookie parsing for
a request that sent no cookie at all (API clients, a first visit), and nothing done at the end
of a request that neither had nor used a session (Flask reads seven cookie settings before
finding that out)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class SignedCookieSessions(SecureCookieSessionInterface):
    """The same cookies, signed by the same keys; the signer kept while the keys stay."""

    _signer: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signer
        if cached is None or cached[0] != keys:
            cached = self._signer = (keys, super().get_signing_serializer(app))
        return cached[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()  # what Flask opens when the session cookie is absent
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # no cookie came, none is set, nothing read: no `Vary: Cookie` either
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Use the signed-cookie sessions that keep their signer."""
    app.session_interface = SignedCookieSessions()

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

from booking.keys import derive


class SignedCookieSessions(SecureCookieSessionInterface):
    """The same cookies, signed by the same keys; the signer kept while the keys stay."""

    _signer: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The sessions' own key (booking.keys), the fallbacks' after it."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signer
        if cached is None or cached[0] != keys:
            cached = self._signer = (keys, self._serializer(keys[0], keys[1]))
        return cached[1]

    def _serializer(self, secret: Any, fallbacks: tuple[Any, ...]) -> URLSafeTimedSerializer | None:
        """Flask's serializer, signing with the key derived for sessions."""
        if not secret:
            return None
        signing = [derive(str(key), "sessions") for key in (*fallbacks, secret)]
        return URLSafeTimedSerializer(
            signing,  # the last signs, every one verifies (itsdangerous's key rotation)
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

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

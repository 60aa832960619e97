"""A real OpenID Connect provider on loopback for the staff's ProConnect sign-in tests:
oidc-provider-mock (authorization code, ID tokens signed RS256, discovery, JWKS, user info,
end session), served by werkzeug in a thread.

Around it, a thin WSGI layer lets a test see what the client sent to the token endpoint
(the PKCE verifier) and publish other keys than the signing one (a token "signed by another
key", as a forger's would be). Rotating the signing key reaches the mock's storage."""

from __future__ import annotations

import inspect
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving
from authlib import jose

ACR = "eidas1"


@dataclass
class Provider:
    """The running provider: its issuer, and what the test changes or reads."""

    issuer: str = ""
    published_keys: dict[str, Any] | None = None  # None: the provider's own
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    storage: Any = None

    def user(self, sub: str, **claims: Any) -> None:
        """The identity the provider will assert for `sub` (its email, acr, amr…)."""
        answer = httpx.put(f"{self.issuer}/users/{quote(sub)}", json=claims)
        assert answer.status_code == 204, answer.text

    def authorize(self, location: str, sub: str) -> str:
        """The agent signs in at the provider: the way back to the service (path+query)."""
        answer = httpx.post(location, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        back = urlsplit(answer.headers["location"])
        return f"{back.path}?{back.query}"

    def rotate_key(self) -> None:
        """A new signing key, with a new `kid`, published instead of the old one."""
        self.storage.jwk = jose.RSAKey.generate_key(is_private=True)

    def forge_keys(self) -> None:
        """Publish, under the signing key's own `kid`, another key: tokens no longer verify."""
        own = self.storage.jwk.as_dict()
        other = jose.RSAKey.generate_key(is_private=True).as_dict()
        self.published_keys = {"keys": [{**other, "kid": own["kid"]}]}


def _mock_storage(app: Any) -> Any:
    """The mock's storage object, held by the closure of its before-request hook."""
    for hook in app.before_request_funcs[None]:
        found = inspect.getclosurevars(hook).nonlocals.get("storage")
        if found is not None:
            return found
    raise LookupError("oidc-provider-mock's storage not found")


def _layer(app: Any, provider: Provider) -> Callable[..., Iterable[bytes]]:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/jwks" and provider.published_keys is not None:
            body = json.dumps(provider.published_keys).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/oauth2/token":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size)
            provider.token_requests.append(parse_qs(raw.decode()))
            environ["wsgi.input"] = io.BytesIO(raw)
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return serve


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on a free loopback port, stopped at the end."""
    app = oidc_provider_mock.app(require_nonce=True)
    provider = Provider()
    server = werkzeug.serving.make_server("localhost", 0, _layer(app, provider), threaded=True)
    provider.issuer = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        httpx.get(f"{provider.issuer}/.well-known/openid-configuration").raise_for_status()
        provider.storage = _mock_storage(app)
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()

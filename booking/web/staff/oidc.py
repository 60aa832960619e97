"""The OpenID Connect client of ProConnect (SPEC §15), through Authlib.

Authorization code with PKCE (S256); `state`, `nonce` and the code verifier kept in the
signed session cookie by Authlib, for one sign-in; the ID token's signature checked against
the keys of the provider's discovery document (fetched at each sign-in, so that a rotation is
followed at once), its issuer, audience, expiry and nonce checked; `acr`
compared with what was asked; the user info read as JSON or as a signed JWT (ProConnect
signs it). Logging out goes through the provider's `end_session_endpoint` with the ID token
as hint.
"""

from __future__ import annotations

from typing import Any, Final

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.jwk import KeySet

from booking.urls import external_url

NAME: Final = "proconnect"
TIMEOUT_SECONDS: Final = 10
_EXTENSION: Final = "proconnect"
SETTINGS: Final = ("PROCONNECT_ISSUER", "PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET")


def init_app(app: Flask) -> None:
    """Register the client when ProConnect is configured (one registry per application:
    Authlib's keeps its clients, their discovery document and keys)."""
    if not all(str(app.config[name]).strip() for name in SETTINGS):
        return
    oauth = OAuth(app)
    app.extensions[_EXTENSION] = oauth
    issuer = app.config["PROCONNECT_ISSUER"]
    oauth.register(
        NAME,
        client_id=app.config["PROCONNECT_CLIENT_ID"],
        client_secret=app.config["PROCONNECT_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["PROCONNECT_SCOPES"],
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )


def enabled() -> bool:
    """Whether ProConnect is offered."""
    return _EXTENSION in current_app.extensions


def client() -> Any:
    """The registered Authlib client (Authlib ships no types)."""
    return current_app.extensions[_EXTENSION].create_client(NAME)


def metadata() -> dict[str, Any]:
    """The provider's discovery document (fetched once per process), its issuer checked:
    a document that names another issuer than the one configured is refused."""
    found: dict[str, Any] = client().load_server_metadata()
    if str(found.get("issuer", "")).rstrip("/") != current_app.config["PROCONNECT_ISSUER"]:
        raise ValueError("the discovery document names another issuer")
    return found


def start() -> ResponseReturnValue:
    """Send the browser to the provider (state, nonce and PKCE kept for the way back)."""
    metadata()
    extra: dict[str, str] = {}
    acr = current_app.config["PROCONNECT_ACR_VALUES"].strip()
    if acr:
        extra["acr_values"] = acr
    redirect_uri = external_url("staff.proconnect_back")
    response: ResponseReturnValue = client().authorize_redirect(redirect_uri, **extra)
    return response


def finish() -> tuple[dict[str, Any], str]:
    """The verified claims of the ID token and user info, and the raw ID token (for the
    logout). Authlib raises on a wrong state, a provider's error, a bad signature, a wrong
    nonce, issuer, audience or expiry."""
    metadata()
    oidc = client()
    # The keys are fetched anew for each sign-in (one small request): a provider that
    # rotated them, with or without a new `kid`, is followed at once.
    oidc.server_metadata.pop("jwks", None)
    token = oidc.authorize_access_token()
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise ValueError("no ID token")
    if not claims.get("email"):
        claims = {**_user_info(oidc, token, str(claims["sub"])), **claims}
    return claims, str(token.get("id_token", ""))


def _user_info(oidc: Any, token: dict[str, Any], sub: str) -> dict[str, Any]:
    """The user info endpoint's claims, as JSON or as a JWT signed by the provider's keys;
    its `sub` must be the ID token's."""
    response = oidc.get(metadata()["userinfo_endpoint"], token=token)
    response.raise_for_status()
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        keys = KeySet.import_key_set(oidc.fetch_jwk_set())
        info = dict(jwt.decode(response.text.strip(), keys).claims)
    else:
        info = dict(response.json())
    if info.get("sub") != sub:
        raise ValueError("the user info is about someone else")
    return info


def logout_redirect(id_token: str) -> ResponseReturnValue | None:
    """The way to the provider's logout, back to /staff/deconnecte; None if it has none."""
    try:
        if not metadata().get("end_session_endpoint") or not id_token:
            return None
        response: ResponseReturnValue = client().logout_redirect(
            post_logout_redirect_uri=external_url("staff.logged_out"), id_token_hint=id_token
        )
    except (OSError, ValueError):  # the provider cannot be reached: signed out here only
        return None
    return response


def logout_confirmed() -> bool:
    """Whether the provider sent the browser back with the `state` of our logout."""
    try:
        client().validate_logout_response()
    except OAuthError:  # no state, or not ours
        return False
    return True

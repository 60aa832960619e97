"""Signing in with ProConnect (SPEC §15): to the provider, and back with an identity that
opens the account an administrator made for its email. Every refusal says why, in French,
on the sign-in page, and is written in the audit log and the security log."""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import abort, current_app, redirect, url_for
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError

from booking.logs import security_event
from booking.services.staff import identities
from booking.web.staff import oidc
from booking.web.staff.blueprint import bp
from booking.web.staff.signin import open_for, refused_page

UNREACHABLE = (
    "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous"
    " avec votre mot de passe si votre compte en a un."
)


def _refused(message: str, who: str = "", audited: bool = False) -> ResponseReturnValue:
    """The sign-in page with the reason, after the audit log and the security log."""
    if not audited:
        identities.refuse(message, who)
    security_event("connexion ProConnect refusée", who[:254], reason=message[:120])
    return refused_page(message)


@bp.get("/proconnect")
def proconnect_start() -> ResponseReturnValue:
    """ "S'identifier avec ProConnect": to the provider."""
    if not oidc.enabled():
        abort(404)
    try:
        return oidc.start()
    except (OSError, ValueError):
        return _refused(UNREACHABLE)


def _acr_accepted(claims: dict[str, Any]) -> bool:
    asked = current_app.config["PROCONNECT_ACR_VALUES"].split()
    return not asked or str(claims.get("acr", "")) in asked


@bp.get("/proconnect/retour")
def proconnect_back() -> ResponseReturnValue:
    """Back from the provider: check everything, then open the account."""
    if not oidc.enabled():
        abort(404)
    try:
        claims, id_token = oidc.finish()
    except MismatchingStateError:
        return _refused(
            "Cette demande de connexion a expiré ou n'a pas été faite depuis ce navigateur"
            " (state). Recommencez la connexion."
        )
    except OAuthError as error:
        if error.error == "access_denied":
            return _refused("La connexion a été annulée sur ProConnect.")
        return _refused(f"ProConnect a refusé la connexion ({error.error}).")
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        return _refused(
            "L'identité renvoyée par ProConnect n'a pas pu être vérifiée"
            f" ({type(error).__name__}) : la connexion est refusée."
        )
    except OSError:
        return _refused(UNREACHABLE)
    sub = str(claims["sub"])
    if not _acr_accepted(claims):
        return _refused(
            "Le niveau d'authentification transmis par ProConnect"
            f" ({claims.get('acr') or 'aucun'}) n'est pas celui demandé.",
            str(claims.get("email", sub)),
        )
    try:
        user = identities.account_for(sub, claims.get("email"))
    except identities.Refused as refusal:
        return _refused(refusal.message, str(claims.get("email", sub)), audited=True)
    amr = claims.get("amr") or []
    amr_text = " ".join(str(value) for value in amr) if isinstance(amr, list) else str(amr)
    open_for(user, "proconnect", str(claims.get("acr", "")), amr_text, id_token)
    return redirect(url_for("staff.index"), code=303)

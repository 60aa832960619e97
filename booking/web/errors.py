"""Errors as users meet them: a JSON body under /api, a page elsewhere, in the request's
language (SPEC §13): a service's message and each of its fields' are said at the edge, its
code stays."""

from __future__ import annotations

import copy
import logging
from typing import Any, TypeVar

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from booking.domain.words import N_, Text
from booking.errors import Invalid, ServiceError, Unavailable
from booking.extensions import db
from booking.logs import log_failure
from booking.web.languages import say

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10  # what a client is told to wait when the database is unreachable
E = TypeVar("E", bound=ServiceError)

HTTP_MESSAGES = {
    400: ("bad_request", N_("Requête incorrecte.")),
    403: ("forbidden", N_("Accès refusé.")),
    404: ("not_found", N_("Cette adresse ne correspond à aucune page.")),
    405: ("method_not_allowed", N_("Méthode non autorisée pour cette adresse.")),
    413: ("too_large", N_("Requête trop volumineuse.")),
    429: ("too_many_requests", N_("Trop de demandes : patientez un peu avant de réessayer.")),
    500: ("server_error", N_("Erreur interne : l'équipe technique est prévenue.")),
}
# pydantic's error types as a person reads them; the values of its context (`max_length`…)
# fill the placeholders, in the language the message is said in.
PYDANTIC_MESSAGES = {
    "missing": N_("champ obligatoire"),
    "int_parsing": N_("nombre entier attendu"),
    "int_type": N_("nombre entier attendu"),
    "float_parsing": N_("nombre attendu"),
    "string_type": N_("texte attendu"),
    "string_too_long": N_("au plus %(max_length)s caractères"),
    "string_too_short": N_("au moins %(min_length)s caractères"),
    "string_pattern_mismatch": N_("format invalide"),
    "greater_than_equal": N_("doit être supérieur ou égal à %(ge)s"),
    "less_than_equal": N_("doit être inférieur ou égal à %(le)s"),
    "date_from_datetime_parsing": N_("date attendue au format AAAA-MM-JJ"),
    "date_parsing": N_("date attendue au format AAAA-MM-JJ"),
    "datetime_parsing": N_("date et heure attendues au format ISO 8601"),
    "extra_forbidden": N_("champ inconnu"),
    "too_long": N_("au plus %(max_length)s éléments"),
    "dict_type": N_("objet attendu"),
}


def invalid(error: ValidationError, message: str = "") -> Invalid:
    """The service's refusal of values pydantic rejected, one message per field (French,
    said in the request's language where it is answered)."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "corps"
        context = item.get("ctx", {})
        if item["type"] == "value_error":
            text = _raised(context.get("error", item["msg"]))
        else:
            template = PYDANTIC_MESSAGES.get(item["type"], N_("valeur invalide"))
            text = Text(template, **context) if "%(" in template else template
        fields.setdefault(name, text)
    return Invalid(message, fields)


def _raised(error: object) -> str:
    """What a validator's ValueError says: its own text, kept as it was raised (a marked
    text, or a `Text` with its values, that the edge can say in another language)."""
    if isinstance(error, Exception) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


def said(error: E) -> E:
    """The same error, its message and each of its fields' said in the request's language
    (its code, status and fields' names unchanged): what a page or an answer shows."""
    shown = copy.copy(error)
    shown.message = say(error.message)
    shown.fields = {name: say(text) for name, text in error.fields.items()}
    return shown


def said_body(body: dict[str, Any]) -> dict[str, Any]:
    """An error's body (`ServiceError.body()`, same shape), its message and fields said."""
    shown = dict(body)
    if "message" in shown:
        shown["message"] = say(shown["message"])
    if isinstance(shown.get("fields"), dict):
        shown["fields"] = {name: say(text) for name, text in shown["fields"].items()}
    return shown


def wants_json() -> bool:
    """API clients get JSON errors."""
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, body: dict[str, Any]) -> Response:
    """The answer to an error: JSON under /api, the error page elsewhere; its message (and
    its fields') said in the request's language, its code as it is."""
    message = say(message)
    if wants_json():
        response = jsonify(said_body(body) if body else {"error": code, "message": message})
    else:
        response = Response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> ResponseReturnValue:
        return error_response(error.status, error.code, error.message, error.body())

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception) -> ResponseReturnValue:
        # The cause's type only: a database message may quote what was being written.
        cause = type(getattr(error, "orig", None) or error).__name__
        log.warning("database unavailable on %s %s (%s)", request.method, request.path, cause)
        try:
            db.session.rollback()
        except Exception:  # any failure: the connection is gone already, nothing to undo
            log.debug("rollback after a lost connection failed", exc_info=True)
        gone = Unavailable()
        response = error_response(gone.status, gone.code, gone.message, gone.body())
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = N_(
            "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."
        )
        return error_response(400, "bad_request", message, {})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        code, message = HTTP_MESSAGES.get(status, ("error", error.description or N_("Erreur.")))
        response = error_response(status, code, message, {})
        for name, value in error.get_headers():
            if name.lower() in {"allow", "retry-after"}:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log_failure(log, "unexpected error on %s %s", error, request.method, request.path)
        return error_response(500, *HTTP_MESSAGES[500], {})

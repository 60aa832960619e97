"""Errors as users meet them: a French JSON body under /api, a French page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from booking.errors import Invalid, ServiceError, Unavailable
from booking.extensions import db
from booking.logs import log_failure

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10  # what a client is told to wait when the database is unreachable

HTTP_MESSAGES = {
    400: ("bad_request", "Requête incorrecte."),
    403: ("forbidden", "Accès refusé."),
    404: ("not_found", "Cette adresse ne correspond à aucune page."),
    405: ("method_not_allowed", "Méthode non autorisée pour cette adresse."),
    413: ("too_large", "Requête trop volumineuse."),
    429: ("too_many_requests", "Trop de demandes : patientez un peu avant de réessayer."),
    500: ("server_error", "Erreur interne : l'équipe technique est prévenue."),
}
PYDANTIC_MESSAGES = {
    "missing": "champ obligatoire",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "string_type": "texte attendu",
    "string_too_long": "au plus {max_length} caractères",
    "string_too_short": "au moins {min_length} caractères",
    "string_pattern_mismatch": "format invalide",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "datetime_parsing": "date et heure attendues au format ISO 8601",
    "extra_forbidden": "champ inconnu",
    "too_long": "au plus {max_length} éléments",
    "dict_type": "objet attendu",
}


def invalid(error: ValidationError, message: str = "") -> Invalid:
    """The service's refusal of values pydantic rejected, one French message per field."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "corps"
        if item["type"] == "value_error":
            text = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            text = PYDANTIC_MESSAGES.get(item["type"], "valeur invalide").format(
                **item.get("ctx", {})
            )
        fields.setdefault(name, text)
    return Invalid(message, fields)


def wants_json() -> bool:
    """API clients get JSON errors."""
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, body: dict[str, object]) -> Response:
    """The answer to an error: JSON under /api, the French error page elsewhere."""
    if wants_json():
        response = jsonify(body or {"error": code, "message": message})
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
        message = "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."
        return error_response(400, "bad_request", message, {})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        code, message = HTTP_MESSAGES.get(status, ("error", error.description or "Erreur."))
        response = error_response(status, code, message, {})
        for name, value in error.get_headers():
            if name.lower() in {"allow", "retry-after"}:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log_failure(log, "unexpected error on %s %s", error, request.method, request.path)
        return error_response(500, *HTTP_MESSAGES[500], {})

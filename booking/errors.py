"""Errors as users meet them: a French JSON body under /api, a French page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

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
}


class ApiError(Exception):
    """An error the API answers with `{"error", "message", "fields"?}` and a 4xx status."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


def french_field_errors(error: ValidationError) -> dict[str, str]:
    """One French message per refused field."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "corps"
        if item["type"] == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            template = PYDANTIC_MESSAGES.get(item["type"], "valeur invalide")
            message = template.format(**item.get("ctx", {}))
        fields.setdefault(name, message)
    return fields


def _wants_json() -> bool:
    """API clients get JSON errors."""
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> ResponseReturnValue:
        return jsonify(error.body()), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        code, message = HTTP_MESSAGES.get(status, ("error", error.description or "Erreur."))
        if _wants_json():
            response = jsonify({"error": code, "message": message})
        else:
            response = app.make_response(
                (render_template("error.html", status=status, message=message), status)
            )
        response.status_code = status
        for name, value in error.get_headers():
            if name.lower() in {"allow", "retry-after"}:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        if _wants_json():
            return jsonify({"error": code, "message": message}), 500
        return render_template("error.html", status=500, message=message), 500

"""The OpenAPI document, generated from the API's routes and their pydantic shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from booking.web.schemas import REFERENCE_PATTERN, UNIT_ID_PATTERN, ErrorBody

F = TypeVar("F", bound=Callable[..., Any])
_PATH_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
PATH_PATTERNS = {"public_id": UNIT_ID_PATTERN, "reference": REFERENCE_PATTERN}
# What any operation may answer besides its own outcomes: odd characters (400), a body too
# large (413), too many requests (429), the database out of reach (503).
COMMON_ERRORS = {400: ErrorBody, 413: ErrorBody, 429: ErrorBody, 503: ErrorBody}


def operation(
    summary: str,
    *,
    responses: dict[int, type[BaseModel]],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    headers: dict[str, tuple[str, str]] | None = None,
) -> Callable[[F], F]:
    """Describe an API view; the description lands in `/api/v1/openapi.json`. `headers`
    names the optional request headers it reads: their pattern and description."""

    def attach(view: F) -> F:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "responses": responses,
            "query": query,
            "body": body,
            "headers": headers or {},
        }
        return view

    return attach


def build_document(
    app: Flask, blueprint: str, enums: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """OpenAPI 3.1 for every described view of the blueprint; `enums` lists the values of
    fields and parameters whose values are data (the reasons' codes)."""
    described = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        meta = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if meta is not None:
            described.append((rule, meta))
    models = {
        model
        for _, meta in described
        for model in [*meta["responses"].values(), meta["body"], ErrorBody]
        if model is not None
    }
    refs, definitions = models_json_schema(
        [(model, "serialization") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, meta in described:
        path = _PATH_ARGUMENT.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.arguments, meta, refs)
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Rendez-vous en gendarmerie",
            "version": "1.0.0",
            "description": "Unités de gendarmerie, créneaux et rendez-vous.",
            "license": {"name": "Licence Ouverte 2.0", "identifier": "etalab-2.0"},
        },
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }
    for name, values in (enums or {}).items():
        _set_enum(document, name, values)
    return document


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is text or absent, never null: `str | None` becomes a string."""
    branches = prop.pop("anyOf", None)
    if branches:
        prop = {**next(b for b in branches if b.get("type") != "null"), **prop}
        if prop.get("default", "") is None:
            del prop["default"]
    return prop


def _set_enum(document: dict[str, Any], name: str, values: list[str]) -> None:
    """State the allowed values of every body property and parameter called `name`."""
    for schema in document["components"]["schemas"].values():
        if name in schema.get("properties", {}):
            schema["properties"][name]["enum"] = values
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation["parameters"]:
                if parameter["name"] == name:
                    parameter["schema"] = {"type": "string", "enum": values}


def _operation(
    arguments: set[str], meta: dict[str, Any], refs: dict[Any, dict[str, Any]]
) -> dict[str, Any]:
    """One operation object."""
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": PATH_PATTERNS.get(name, "^[^/]+$")},
        }
        for name in sorted(arguments)
    ]
    query = meta["query"]
    if query is not None:
        schema = query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = _not_null(dict(prop))
            description = prop.pop("description", None)
            prop.pop("title", None)
            parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    for name, (pattern, description) in meta["headers"].items():
        parameters.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": description,
                "schema": {"type": "string", "pattern": pattern},
            }
        )
    result: dict[str, Any] = {"summary": meta["summary"], "parameters": parameters}
    if meta["body"] is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(meta["body"], "serialization")]}},
        }
    result["responses"] = {
        str(status): {
            "description": model.__doc__ or "",
            "content": {"application/json": {"schema": refs[(model, "serialization")]}},
        }
        for status, model in sorted({**COMMON_ERRORS, **meta["responses"]}.items())
    }
    return result

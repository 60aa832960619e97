"""The OpenAPI document, generated from the API's routes and their pydantic shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])
_PATH_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def operation(
    summary: str,
    *,
    responses: dict[int, type[BaseModel]],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
) -> Callable[[F], F]:
    """Describe an API view; the description lands in `/api/v1/openapi.json`."""

    def attach(view: F) -> F:
        view.openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "responses": responses,
            "query": query,
            "body": body,
        }
        return view

    return attach


def build_document(app: Flask, blueprint: str) -> dict[str, Any]:
    """OpenAPI 3.1 for every described view of the blueprint."""
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
        for model in [*meta["responses"].values(), meta["body"]]
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
    return {
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


def _operation(
    arguments: set[str], meta: dict[str, Any], refs: dict[Any, dict[str, Any]]
) -> dict[str, Any]:
    """One operation object."""
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in sorted(arguments)
    ]
    query = meta["query"]
    if query is not None:
        schema = query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = dict(prop)
            description = prop.pop("description", None)
            prop.pop("title", None)
            parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
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
        for status, model in sorted(meta["responses"].items())
    }
    return result

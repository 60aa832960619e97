"""The JSON API fuzzed from its own OpenAPI document: no 5xx, every answer as documented."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from booking.models import Unit

# No 5xx, documented status codes and content types, bodies as the schema says. Business
# refusals of schema-valid data (a 422 for an email that is not deliverable-looking, a 409
# for a slot already taken) are the API's job, so "positive data acceptance" is not asked.
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Rate limits would only answer 429 to the fuzzer."""
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture(params=["sqlite"])
def database_uri(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Fuzzing runs on the embedded database (the API code is the same on both)."""
    return f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"


def test_api_answers_as_documented(app: Flask, create_unit: Callable[..., Unit]) -> None:
    """Every operation, fed with generated requests, checked by schemathesis' own checks."""
    create_unit(public_id="01281-01", hours={day: [(0, 1440)] for day in range(8)})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        fuzz()

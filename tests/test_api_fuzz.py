"""The JSON API fuzzed from its own OpenAPI document, with every check schemathesis has.

Besides "no 5xx" and "answers as documented", the document must state the real limits:
a request it allows must not be refused as malformed (400, 422: unknown units and taken
slots, 404 and 409, are business answers), and a request it rules out must be refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from booking.models import Unit


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Rate limits would only answer 429 to the fuzzer."""
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture(params=["sqlite"])
def database_uri(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Fuzzing runs on the embedded database (the API code is the same on both)."""
    return f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"


def test_api_answers_as_documented(app: Flask, create_unit: Callable[..., Unit]) -> None:
    """Every operation, fed with generated requests, checked by all of schemathesis' checks."""
    create_unit(public_id="01281-01", hours={day: [(0, 1440)] for day in range(8)})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate()

        fuzz()

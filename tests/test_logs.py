"""Structured request logs with an id, no query strings, no personal data."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from booking.logs import JsonFormatter


def test_each_request_is_logged_once_with_its_id_and_without_the_query(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="booking.requests")
    response = client.get("/rendez-vous/ABCDEFGH?token=secret-in-the-link")
    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    [record] = [r for r in caplog.records if r.name == "booking.requests"]
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /rendez-vous/ABCDEFGH 404"
    assert line["status"] == 404
    assert line["request_id"] == request_id
    assert "secret-in-the-link" not in json.dumps(line)


def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(client: FlaskClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-0123456789"})
    assert kept.headers["X-Request-ID"] == "lb-0123456789"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert forged.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(forged.headers["X-Request-ID"]) == 32

"""HTML pages leave the application compressed (Brotli, else gzip) when the browser says
it can read them; the JSON API is left as it is (its proxy compresses it)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime

import brotli
import pytest
from flask.testing import FlaskClient

from booking.models import Unit

MONDAY_7AM = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def unit(create_unit: Callable[..., Unit], frozen_now: Callable[[datetime], None]) -> Unit:
    """A unit with a week of slots."""
    frozen_now(MONDAY_7AM)
    return create_unit(public_id="ORNEX")


@pytest.mark.usefixtures("unit")
@pytest.mark.parametrize(
    ("accepted", "encoding", "decode"),
    [
        ("br, gzip, deflate", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
    ],
)
def test_a_page_of_slots_is_compressed(
    client: FlaskClient, accepted: str, encoding: str, decode: Callable[[bytes], bytes]
) -> None:
    plain = client.get("/unites/ORNEX/creneaux?motif=otv")
    squeezed = client.get("/unites/ORNEX/creneaux?motif=otv", headers={"Accept-Encoding": accepted})
    assert plain.headers.get("Content-Encoding") is None
    assert squeezed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    page = decode(squeezed.data).decode()
    assert "Choisissez un créneau" in page
    assert len(squeezed.data) < len(plain.data) / 3  # a 23 kB page, in a few kB


@pytest.mark.usefixtures("unit")
def test_the_api_is_not_compressed_by_the_application(client: FlaskClient) -> None:
    answer = client.get(
        "/api/v1/units/ORNEX/slots?motif=otv", headers={"Accept-Encoding": "br, gzip"}
    )
    assert answer.status_code == 200
    assert answer.headers.get("Content-Encoding") is None
    assert answer.json["slots"]

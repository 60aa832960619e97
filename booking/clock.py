"""The service's idea of the current instant; tests move it, the domain never reads it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)

"""The capacity rule in Python, against the shared truth table (tests/support/capacity.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.domain.capacity import Held, fits, holds_capacity
from tests.support.capacity import CASES, Existing, at


@pytest.mark.parametrize(("desks", "existing", "new", "expected"), CASES)
def test_the_domain_applies_the_truth_table(
    desks: int, existing: list[Existing], new: tuple[int, int], expected: bool
) -> None:
    now = datetime.now(UTC)
    held = [Held(at(e.start), at(e.start + e.minutes), e.status, e.expiry(now)) for e in existing]
    assert fits(held, at(new[0]), at(new[0] + new[1]), desks, now) is expected


@pytest.mark.parametrize(
    ("status", "expiry", "holds"),
    [
        ("confirmed", None, True),
        ("pending", datetime(2026, 12, 7, 10, 0, 1, tzinfo=UTC), True),  # a second to go
        ("pending", datetime(2026, 12, 7, 10, 0, tzinfo=UTC), False),  # expires at now
        ("pending", None, False),
        ("expired", None, False),
        ("honoured", None, False),
    ],
)
def test_a_hold_holds_until_its_expiry_and_not_at_it(
    status: str, expiry: datetime | None, holds: bool
) -> None:
    assert holds_capacity(status, expiry, datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) is holds

"""The capacity rule in Python, against the shared truth table (tests/support/capacity.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.domain.capacity import DESKS, Held, draws_on, fits, holds_capacity
from tests.support.capacity import CASES, Asked, Existing, Seats, at


@pytest.mark.parametrize(("seats", "existing", "new", "expected"), CASES)
def test_the_domain_applies_the_truth_table(
    seats: Seats, existing: list[Existing], new: Asked, expected: bool
) -> None:
    now = datetime.now(UTC)
    held = [
        Held(at(e.start), at(e.start + e.minutes), e.status, e.expiry(now), e.mode)
        for e in existing
    ]
    capacity = seats.desks if draws_on(new.mode) == DESKS else seats.lines
    end = at(new.start + new.minutes)
    assert fits(held, at(new.start), end, capacity, now, new.mode) is expected


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

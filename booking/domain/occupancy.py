"""How many visits are in progress at once (SPEC §3.5–3.6).

One rule serves the slots (`available`, and whether a slot is offered at all) and the staff
settings (which visits no longer fit when desks go down). The database enforces the same
rule on every write (`booking/db_rules.py`, in SQL): this module is how the code predicts
it, the trigger is what makes it true.

The number in progress only rises at a visit's start, so the most in progress during
`[begin, end)` is reached at `begin` or at a start inside the interval.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence

from booking.domain.instants import Interval, to_us


class Occupancy:
    """Visits as sorted start and end instants (microseconds), for peak queries."""

    __slots__ = ("ends", "starts")

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        spans = list(spans)
        self.starts = sorted(start for start, _ in spans)
        self.ends = sorted(end for _, end in spans)

    def __bool__(self) -> bool:
        """Whether any visit is recorded."""
        return bool(self.starts)

    def add(self, begin: int, end: int) -> None:
        """Record one more visit."""
        insort(self.starts, begin)
        insort(self.ends, end)

    def peak(self, begin: int, end: int, limit: int) -> int:
        """Most visits in progress at one instant of `[begin, end)`, counting no higher than
        `limit` (the caller only needs to know whether a desk is left)."""
        starts, ends = self.starts, self.ends
        # In progress at t: started at or before t minus ended at or before t.
        first = bisect_right(starts, begin)
        busy = first - bisect_right(ends, begin)
        stop = bisect_left(starts, end, first)
        for index in range(first, stop):
            if busy >= limit:
                break
            moment = starts[index]
            busy = max(busy, bisect_right(starts, moment, index) - bisect_right(ends, moment))
        return min(busy, limit)


def over_capacity(visits: Sequence[Interval], desks: int) -> list[int]:
    """Indexes of the visits that no longer fit on `desks`, earlier ones keeping their place.

    `visits` come in priority order (the oldest booked first): each keeps its place when
    fewer than `desks` of the visits kept before it are in progress at some instant of it.
    """
    kept = Occupancy()
    over = []
    for index, visit in enumerate(visits):
        begin, end = to_us(visit.start), to_us(visit.end)
        if begin >= end:
            continue  # covers no instant
        if kept.peak(begin, end, desks) >= desks:
            over.append(index)
        else:
            kept.add(begin, end)
    return over

"""How long this process takes to answer right now: the waiting room's brake in `auto`
(SPEC §16). Every answer's duration is noted (booking.web.envelope); the 90th percentile of
the last two seconds tells whether the node is overloaded. A deque of at most 512 pairs:
appending is atomic, reading takes a copy."""

from __future__ import annotations

import time
from collections import deque
from typing import Final

WINDOW_SECONDS: Final = 2.0
MIN_SAMPLES: Final = 20  # fewer answers than this in the window say nothing
_durations: deque[tuple[float, float]] = deque(maxlen=512)


def note(seconds: float) -> None:
    """One answer's duration."""
    _durations.append((time.monotonic(), seconds))


def recent_p90() -> float:
    """The 90th percentile of the durations of the last two seconds (0 when too few)."""
    since = time.monotonic() - WINDOW_SECONDS
    recent = sorted(seconds for at, seconds in list(_durations) if at >= since)
    if len(recent) < MIN_SAMPLES:
        return 0.0
    return recent[int(0.9 * (len(recent) - 1))]

"""Values built from the database and kept per process until the data they come from changes.

The version (a cheap query) is checked at most every `interval` seconds: another process's
change shows within that delay, this process's own change at once (`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import current_app

T = TypeVar("T")


@dataclass
class _Kept(Generic[T]):
    value: T
    version: Hashable
    checked: float


class Memo(Generic[T]):
    """One kept value per application (tests run many), rebuilt when its version moves."""

    def __init__(
        self, name: str, build: Callable[[], T], version: Callable[[], Hashable], interval: float
    ) -> None:
        self.name, self.build, self.version, self.interval = name, build, version, interval
        self.lock = threading.Lock()

    def get(self) -> T:
        """The value, rebuilt if the data changed since it was built."""
        store: dict[str, Any] = current_app.extensions.setdefault("memo", {})
        kept: _Kept[T] | None = store.get(self.name)
        now = time.monotonic()
        if kept is not None and now - kept.checked < self.interval:
            return kept.value
        version = self.version()
        if kept is not None and kept.version == version:
            kept.checked = now
            return kept.value
        with self.lock:
            value = self.build()
            store[self.name] = _Kept(value, version, now)
        return value

    def forget(self) -> None:
        """Rebuild at the next use (this process just changed the data)."""
        current_app.extensions.setdefault("memo", {}).pop(self.name, None)

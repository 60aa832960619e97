"""The Flask application class of the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask


class Application(Flask):
    """Flask, deciding once per function whether it must be wrapped to run an `async def`.

    Flask asks this of every hook and view at every request (`ensure_sync`, an inspection
    of the function's code); the answer never changes for the same function. Answers are
    kept by weak reference: a function made for one request (a class-based view's bound
    method, an `after_this_request` closure) is forgotten with it.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        plain: WeakKeyDictionary[Callable[..., Any], bool]
        plain = self.__dict__.setdefault("_plain_functions", WeakKeyDictionary())
        try:
            if func in plain:
                return func
        except TypeError:  # a callable that cannot be weakly referenced
            return super().ensure_sync(func)
        found = super().ensure_sync(func)
        if found is func:  # runs as it is; a wrapper (async def) is made each time, as before
            plain[func] = True
        return found

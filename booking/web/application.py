"""The Flask application class of the service."""

from __future__ import annotations

from collections.abc import Callable
from inspect import CO_COROUTINE
from types import FunctionType, MethodType
from typing import Any

from flask import Flask


class Application(Flask):
    """Flask, telling a plain function from an `async def` by its code's flags.

    Flask asks this of every hook and view at every request (`ensure_sync`, through
    `inspect.iscoroutinefunction`, which unwraps and inspects the function each time). A
    plain function or method whose code is not a coroutine's, and that was not marked as one
    (`inspect.markcoroutinefunction`), runs as it is; anything else goes to Flask.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        target = func.__func__ if type(func) is MethodType else func
        if (
            type(target) is FunctionType
            and not target.__code__.co_flags & CO_COROUTINE
            and "_is_coroutine_marker" not in target.__dict__
        ):
            return func
        return super().ensure_sync(func)

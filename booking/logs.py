"""Structured logs: one JSON object a line, each with the request's id; no personal data.

Request lines carry the path without its query string (manage links hold a secret there),
and never an email address or a name.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar

from sqlalchemy.exc import DBAPIError

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", …}`."""

    _second: tuple[int, str] = (-1, "")  # the last second written, and how
    # Made once, not at every line; a value JSON has no type for (a lazy translated text,
    # a date) is written as its text rather than losing the line.
    _encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        second = int(record.created)
        if self._second[0] != second:  # formatted once a second, not once a line
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(second)))
        entry = {
            "time": self._second[1],
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encode(entry)


class ScrubbedError(Exception):
    """What a log says of an error whose own message may quote personal data."""


def scrubbed(error: BaseException) -> BaseException:
    """The error as the logs may show it: a database error without its message, which can
    quote the values of the row (PostgreSQL's "Failing row contains …"); others as they are.

    The statement itself is kept (its values never are: engines hide their parameters).
    """
    if not isinstance(error, DBAPIError):
        return error
    cause = error.orig
    code = getattr(cause, "sqlstate", None) or getattr(cause, "sqlite_errorname", "")
    statement = " ".join(str(error.statement or "").split())[:300]
    return ScrubbedError(f"{type(cause).__name__} {code}: [SQL: {statement}]")


def log_failure(logger: logging.Logger, message: str, error: BaseException, *args: object) -> None:
    """Log an unexpected error with its traceback, its message scrubbed of personal data."""
    shown = scrubbed(error)
    logger.error(message, *args, exc_info=(type(shown), shown, error.__traceback__))


SECURITY = logging.getLogger("booking.security")


def security_event(event: str, account: str = "", **details: str) -> None:
    """A security event (a sign-in, its failure or refusal, a key or feed issued or
    revoked, a pre-declaration read) as its own log line: the event, the staff account
    concerned and short details (a reference, a unit, a key's prefix), never a citizen's
    name, email or what they declared."""
    fields = {"event": event, "account": account, **details}
    SECURITY.info("security: %s", event, extra={"fields": fields})


def configure(log_format: str) -> None:
    """Root logging to standard error, as JSON (`json`) or readable text (`text`)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        # No JSON line shows the thread or the calling function: not gathering them saves
        # every request's line a third of its cost (Python's logging HOWTO, "Optimization").
        # The process id stays (the server's own lines show it); the readable text of
        # development and tests keeps everything, for the tools that show where a line
        # came from.
        logging.logThreads = False
        logging.logMultiprocessing = False
        logging._srcfile = None
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)

"""A real SMTP server (aiosmtpd) on a free local port, that records what it receives."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """aiosmtpd handler keeping every message; `delay` slows each one down."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        """Store the message (after the delay, as a slow server would)."""
        if self.delay:
            time.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    """Start, stop and restart a recording SMTP server on a fixed port."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = free_port()
        self.recorder = Recorder(delay)
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen."""
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused, as during an outage."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        """What arrived so far."""
        with self.recorder.lock:
            return list(self.recorder.messages)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> None:
    """Wait until `condition()` holds, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)

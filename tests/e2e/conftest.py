"""A real browser (Debian's Chromium driven by Playwright) against gunicorn on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)

from booking.models import Unit
from tests.support.server import Server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; no network beyond 127.0.0.1."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(params=["sqlite"])
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests run on the embedded database, as `make run` does."""
    return f"sqlite:///{tmp_path / 'e2e.sqlite3'}"


@pytest.fixture
def ornex(create_unit: Callable[..., Unit]) -> Unit:
    """A one-desk unit open around the clock, so that slots exist whatever the hour."""
    return create_unit(
        public_id="01281-01",
        name="Gendarmerie - Brigade de proximité d'Ornex",
        desks=1,
        hours=ALWAYS_OPEN,
    )


@pytest.fixture
def live(app: Flask, ornex: Unit, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """The app served by gunicorn on the test's database."""
    server = Server(database_uri, tmp_path / "instance", workers=2)
    yield server
    server.stop()


@pytest.fixture
def new_page(browser: Browser, live: Server) -> Iterator[Callable[..., Page]]:
    """Pages in fresh browser contexts (phone-sized unless told otherwise)."""
    contexts = []

    def make(**options: Any) -> Page:
        settings = {**PHONE, "locale": "fr-FR", **options}
        context = browser.new_context(base_url=f"http://127.0.0.1:{live.port}", **settings)
        # axe-core is served from the site's own origin, so the strict CSP stays enforced.
        context.route("**/__axe__.js", lambda route: route.fulfill(path=str(AXE)))
        contexts.append(context)
        page = context.new_page()
        page.on("console", _watch_console)
        page.on("pageerror", lambda error: PROBLEMS.append(f"script error: {error}"))
        page.on("requestfailed", _watch_failure)
        page.on("response", _watch_response)
        return page

    yield make
    for context in contexts:
        context.close()


PROBLEMS: list[str] = []


def _watch_console(message: ConsoleMessage) -> None:
    """Remember a console error (a CSP refusal included); a page answering an error status
    logs one too, which `_watch_response` judges instead."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        PROBLEMS.append(f"console: {message.text}")
    elif "Content Security Policy" in message.text:
        PROBLEMS.append(f"CSP: {message.text}")


def _watch_failure(request: Request) -> None:
    """A request that failed; one cut short because the page went elsewhere is normal."""
    if request.failure != "net::ERR_ABORTED":
        PROBLEMS.append(f"failed ({request.failure}): {request.url}")


def _watch_response(response: Response) -> None:
    """An asset, a script's request or anything but a page itself must not fail: a page may
    answer 404 or 422 on purpose (the tests visit wrong links and send wrong forms)."""
    if response.status >= 400 and response.request.resource_type != "document":
        PROBLEMS.append(f"{response.status}: {response.url}")


@pytest.fixture(autouse=True)
def nothing_failed() -> Iterator[None]:
    """Every browser test also checks that no request failed, no asset was missing, no
    script broke and the strict CSP blocked nothing of the site."""
    PROBLEMS.clear()
    yield
    assert PROBLEMS == []


def audit(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the current page."""
    page.add_script_tag(url="/__axe__.js")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
        }"""
    )
    return [
        f"{item['id']} ({item['impact']}): {item['nodes']}"
        for item in result
        if item["impact"] in {"serious", "critical"}
    ]


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot under $SCREENSHOTS_DIR (docs/screenshots when refreshing them)."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

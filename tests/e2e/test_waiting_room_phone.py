"""The waiting room on a phone (SPEC §16), served by gunicorn with Redis: the second citizen
waits on a light page, axe-clean, that reloads itself without JavaScript and opens the form
when the first one has booked; with JavaScript, the page asks the line and opens it too."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from playwright.sync_api import Page, expect

from booking.models import Unit
from tests.e2e.conftest import audit, screenshot
from tests.e2e.test_citizen_journey import fill_details
from tests.support.server import Server

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def live(app: Flask, ornex: Unit, database_uri: str, tmp_path: Path) -> Iterator[Server]:
    """The app on gunicorn, one booking journey at a time."""
    prefix = f"rdv:e2e:{uuid.uuid4().hex}:"
    settings = {
        "ADMISSION": "on",
        "ADMISSION_CAPACITY": "1",
        "ADMISSION_REDIS_URL": REDIS,
        "ADMISSION_PREFIX": prefix,
    }
    server = Server(database_uri, tmp_path / "instance", workers=2, extra_env=settings)
    yield server
    server.stop()
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def choose_slot(page: Page, which: int) -> None:
    page.goto("/unites/01281-01/creneaux?motif=otv")
    page.locator("button[name=debut]").nth(which).click()


def test_the_second_citizen_waits_then_gets_the_form_with_or_without_javascript(
    new_page: Callable[..., Page],
) -> None:
    first = new_page()
    choose_slot(first, 0)
    expect(first.get_by_role("heading", name="Vos coordonnées")).to_be_visible()

    without_script = new_page(java_script_enabled=False)
    choose_slot(without_script, 1)
    expect(
        without_script.get_by_role("heading", name="Vous êtes dans la file d'attente")
    ).to_be_visible()
    expect(without_script.get_by_text("Votre position : 1")).to_be_visible()

    with_script = new_page()
    choose_slot(with_script, 2)
    expect(with_script.get_by_text("Votre position : 2")).to_be_visible()
    assert audit(with_script) == []
    screenshot(with_script, "waiting-room")

    fill_details(first)
    first.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(first.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()

    # The page without script reloads itself (meta refresh) and opens the form.
    expect(without_script.get_by_role("heading", name="Vos coordonnées")).to_be_visible(
        timeout=15_000
    )
    # The one with script learns it moved up (position 1), without reloading.
    expect(with_script.get_by_text("Votre position : 1")).to_be_visible(timeout=15_000)
    fill_details(without_script, mail="dominique@example.org")
    without_script.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(
        without_script.get_by_role("heading", name="Votre rendez-vous est confirmé")
    ).to_be_visible()
    expect(with_script.get_by_role("heading", name="Vos coordonnées")).to_be_visible(timeout=15_000)

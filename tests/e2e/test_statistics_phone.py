"""The statistics page on a 390×844 phone (SPEC §14): axe-clean in French and in English,
every chart beside its data table, nothing requested fails (conftest watches every request
and the console)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from booking import clock
from booking.models import BookingStatus, Unit
from booking.services.statistics import measure_delays, refresh_figures
from tests.e2e.conftest import audit, screenshot

STATUSES = [BookingStatus.HONOURED] * 7 + [BookingStatus.NO_SHOW] * 3
STATUSES += [BookingStatus.CANCELLED_BY_CITIZEN, BookingStatus.CANCELLED_BY_UNIT]


def test_the_statistics_page_on_a_phone(
    new_page: Callable[..., Page],
    app: Flask,
    ornex: Unit,
    create_booking: Callable[..., object],
) -> None:
    now = clock.now()
    for day, status in enumerate(STATUSES):
        start = (now - timedelta(days=day + 1)).replace(minute=0, second=0, microsecond=0)
        create_booking(ornex, start, status=status, created_at=start - timedelta(days=3))
    create_booking(ornex, now + timedelta(days=2), created_at=now, channel="staff")
    with app.app_context():
        measure_delays(now)
        refresh_figures(now)

    page = new_page()
    violations: dict[str, list[str]] = {}
    page.goto("/statistiques")
    expect(page.get_by_role("heading", name="Statistiques", exact=True)).to_be_visible()
    figures = page.locator("figure.statistics-figure")
    assert figures.count() >= 9
    for index in range(figures.count()):  # every chart has its table
        figure = figures.nth(index)
        expect(figure.locator("table")).to_have_count(1)
    expect(page.locator("svg.statistics-chart").first).to_be_visible()
    violations["statistiques"] = audit(page)
    screenshot(page, "18-statistiques")
    page.goto("/statistiques?unite=01281-01&lang=en#unite")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("cell", name="< 5").first).to_be_visible()
    violations["statistics, one unit, English"] = audit(page)
    screenshot(page, "19-statistics-unit-en")
    assert {name: found for name, found in violations.items() if found} == {}

"""Benchmark: how long the booking form's proof of work (ALTCHA) takes to solve in the phone
test's browser (Debian's Chromium, 390×844, touch), at several costs. Prints figures only.

The widget, its worker and a challenge made by the service's own code are served to the
browser by Playwright's request interception (no server, no network). Each cost is solved
ROUNDS times, with fresh challenges; the browser runs as it is, then with Chrome DevTools'
CPU throttling at 4× (the slowdown Lighthouse uses for a mid-range phone). Throttling
slows the page's threads; WebCrypto's PBKDF2 runs in native code on its own threads, which
it may slow less: the throttled figure is an estimate of a phone, not a phone.

Run from the project root: `.venv/bin/python bench/bench_challenge.py`.
Environment: BENCH_CHALLENGE_ROUNDS (12), BENCH_CHALLENGE_COSTS ("2000 5000 10000 20000"),
CHROMIUM (/usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from playwright.sync_api import Page, Route, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking import create_app  # noqa: E402
from booking.services import challenge  # noqa: E402

ORIGIN = "http://localhost:9"  # a secure context (WebCrypto), every request intercepted
ROUNDS = int(os.environ.get("BENCH_CHALLENGE_ROUNDS", "12"))
COSTS = [int(c) for c in os.environ.get("BENCH_CHALLENGE_COSTS", "2000 5000 10000 20000").split()]
TARGET_SECONDS = 1.0
PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script type="module" src="/altcha/altcha.min.js"></script>
<script type="module" src="/js/challenge.js"></script></head><body>
<form><altcha-widget name="altcha" challenge="/challenge" auto="onload"
 data-worker="/altcha/pbkdf2.js"></altcha-widget></form>
<script>window.started = performance.now();</script></body></html>"""
SOLVED = "(document.querySelector('input[name=altcha]') || {}).value"


def serve(app_cost: int) -> object:
    """The request handler: the page, the widget's files (the site's own), and fresh
    challenges."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench-" + "x" * 64, "BOOKING_CHALLENGE_COST": app_cost}
    )

    def handle(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/":
            route.fulfill(body=PAGE, content_type="text/html")
        elif path.startswith("/challenge"):
            with app.app_context():
                route.fulfill(body=json.dumps(challenge.issue()), content_type="application/json")
        elif path.startswith(("/altcha/", "/js/")):
            file = ROOT / "static" / path.lstrip("/").split("?")[0]
            route.fulfill(path=str(file), content_type="text/javascript")
        else:
            route.fulfill(status=404, body="")

    return handle


def solve_once(page: Page) -> float:
    """Load the page; seconds until the widget says it is verified."""
    page.goto(ORIGIN + "/")
    page.wait_for_function(SOLVED, timeout=120_000, polling=10)
    return float(page.evaluate("performance.now() - window.started")) / 1000


def main() -> None:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    print(f"proof of work (ALTCHA, PBKDF2/SHA-256), {ROUNDS} fresh challenges per cost")
    print(f"target: about {TARGET_SECONDS:.0f} s on a phone (issue: 'Who may read what')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for cost in COSTS:
            for rate in (1, 4):
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                )
                page = context.new_page()
                page.route("**/*", serve(cost))  # type: ignore[arg-type]
                if rate > 1:
                    cdp = context.new_cdp_session(page)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                times = sorted(solve_once(page) for _ in range(ROUNDS))
                p90 = times[int(0.9 * (len(times) - 1))]
                print(
                    f"  cost {cost:>6}, CPU ×{rate}: median {statistics.median(times):5.2f} s,"
                    f" p90 {p90:5.2f} s, max {times[-1]:5.2f} s"
                )
                context.close()
        browser.close()


if __name__ == "__main__":
    main()

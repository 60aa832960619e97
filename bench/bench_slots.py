"""Micro-benchmark of booking.domain.slots: prints median timings, never fails on speed.

Run from the project root: `.venv/bin/python bench/bench_slots.py`.
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking.domain.slots import (  # noqa: E402 - needs the project root on sys.path
    Interval,
    SlotQuery,
    WeeklyHours,
    first_offered_slot,
    offered_slots,
    unit_timezone,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 9, 17, tzinfo=PARIS)  # a Monday; the horizon spans the March DST
OFFICE: WeeklyHours = {day: [(8 * 60, 12 * 60), (14 * 60, 18 * 60)] for day in range(5)}
DAY_COLUMNS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
UNITS_CSV = ROOT / "data" / "units.csv"


def median_seconds(action: Callable[[], object], repeat: int, number: int) -> float:
    """Median over `repeat` runs of the time of one call, each run timing `number` calls."""
    action()  # warm caches (holiday sets, zone data) as a running server would have them
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        for _ in range(number):
            action()
        runs.append((time.perf_counter() - began) / number)
    return statistics.median(runs)


def random_bookings(rng: random.Random, count: int, tz: ZoneInfo) -> list[Interval]:
    """Bookings of mixed durations inside office hours over the next four weeks."""
    bookings = []
    for _ in range(count):
        day = NOW.date() + timedelta(days=rng.randrange(28))
        minute = rng.choice([8 * 60, 14 * 60]) + 15 * rng.randrange(14)
        start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)
        bookings.append(Interval(start, start + timedelta(minutes=rng.choice([15, 30, 45, 60]))))
    return bookings


def parse_clock(text: str) -> int:
    """Minutes of a `08h00` value of the dataset."""
    hours, minutes = text.split("h")
    return int(hours) * 60 + int(minutes)


def dataset_units() -> list[tuple[str, WeeklyHours]]:
    """(département, weekly hours) of every unit of data/units.csv, if the file is there."""
    if not UNITS_CSV.exists():
        return []
    units: list[tuple[str, WeeklyHours]] = []
    with UNITS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            hours: dict[int, list[tuple[int, int]]] = {}
            for key, name in enumerate((*DAY_COLUMNS, "jours_feries")):
                for n in (1, 2, 3):
                    start, end = row[f"{name}_plage{n}_debut"], row[f"{name}_plage{n}_fin"]
                    if start and end and parse_clock(start) < parse_clock(end):
                        hours.setdefault(key, []).append((parse_clock(start), parse_clock(end)))
            units.append((row["departement"], hours))
    return units


def synthetic_units(rng: random.Random, count: int) -> list[tuple[str, WeeklyHours]]:
    """Units with varied hours, mostly metropolitan, some overseas."""
    departments = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "57", "67"] * 5
    departments += ["971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988"]
    shapes: list[WeeklyHours] = [
        OFFICE,
        {day: [(14 * 60, 18 * 60)] for day in (0, 2, 4)},
        {day: [(8 * 60, 12 * 60)] for day in range(6)},
        {day: [(0, 1440)] for day in range(8)},
        {5: [(9 * 60, 12 * 60)]},
    ]
    return [(rng.choice(departments), rng.choice(shapes)) for _ in range(count)]


def main() -> None:
    """Print the figures of the two targets and a few related ones."""
    rng = random.Random(20260316)
    office = partial(
        SlotQuery,
        hours=OFFICE,
        department="75",
        duration_minutes=30,
        desks=2,
        closures=[Interval(NOW + timedelta(days=9), NOW + timedelta(days=10))],
        now=NOW,
    )
    busy_query = office(bookings=random_bookings(rng, 300, PARIS))
    empty_query = office(bookings=[])

    def one_unit() -> list[Any]:
        return offered_slots(busy_query)

    per_call = median_seconds(one_unit, repeat=15, number=50)
    print(
        f"offered_slots, 1 unit, 30 min, 28 days, 300 bookings, 2 desks: "
        f"{per_call * 1e3:.3f} ms per call (median; target < 2 ms; {len(one_unit())} slots)"
    )
    per_call = median_seconds(partial(offered_slots, empty_query), repeat=15, number=50)
    print(f"offered_slots, same unit without bookings: {per_call * 1e3:.3f} ms per call")

    units = dataset_units()
    source = str(UNITS_CSV.relative_to(ROOT)) if units else "synthetic"
    if not units:
        units = synthetic_units(rng, 3111)
    firsts, wholes = [], []
    for department, hours in units:
        query = SlotQuery(
            hours=hours,
            department=department,
            duration_minutes=rng.choice([15, 30, 45, 60]),
            desks=rng.randint(1, 3),
            closures=[],
            bookings=random_bookings(rng, rng.randint(0, 5), unit_timezone(department)),
            now=NOW,
        )
        firsts.append(partial(first_offered_slot, query))
        wholes.append(partial(offered_slots, query))

    total = median_seconds(lambda: [call() for call in firsts], repeat=7, number=1)
    hits = sum(call() is not None for call in firsts)
    print(
        f"first_offered_slot, {len(firsts)} units ({source}), few bookings each: "
        f"{total * 1e3:.1f} ms in total (median; target < 500 ms; {hits} units with a slot)"
    )
    total = median_seconds(lambda: [call() for call in wholes], repeat=3, number=1)
    print(f"offered_slots (whole horizon), same {len(wholes)} units: {total * 1e3:.1f} ms in total")


if __name__ == "__main__":
    main()

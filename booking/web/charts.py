"""Charts drawn on the server as SVG for the statistics page: stacked bars for counts, lines
for rates and delays. Each chart is drawn from the same rows as the data table the page puts
beside it (RGAA: the table is the accessible form, the chart its picture); nothing runs in
the browser and nothing is fetched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil, log10

from babel.numbers import format_decimal

# DSFR illustrative colours, distinguishable on white and from each other.
COLOURS = ("#000091", "#e1000f", "#18753c", "#b34000", "#6a6af4", "#a558a0", "#009081", "#716043")
WIDTH, HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 30


@dataclass(frozen=True)
class Mark:
    """A bar (x, y, width, height) or a line's point (x, y), with what it shows."""

    x: float
    y: float
    width: float = 0.0
    height: float = 0.0
    colour: str = COLOURS[0]
    text: str = ""  # said by the SVG's own <title> when pointed at


@dataclass
class Chart:
    """An SVG's geometry: marks, the value axis' ticks, the weeks under the bars, a legend."""

    kind: str  # "bars" or "lines"
    marks: list[Mark] = field(default_factory=list)
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # colour, points, name
    ticks: list[tuple[float, str]] = field(default_factory=list)  # y, label
    labels: list[tuple[float, str]] = field(default_factory=list)  # x, label
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, name
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = True


def _scale_top(peak: float) -> float:
    """A round top for the value axis: 1, 2 or 5 times a power of ten, at least the peak."""
    if peak <= 0:
        return 1.0
    power = 10 ** int(log10(peak))
    for step in (1, 2, 5, 10):
        if step * power >= peak:
            return float(step * power)
    return float(ceil(peak))


def _ticks(top: float, unit: str, locale: str) -> list[tuple[float, str]]:
    inner = HEIGHT - TOP - BOTTOM
    values = [top * share / 4 for share in range(5)]
    digits = 0 if top >= 4 else (1 if top >= 0.4 else 2)
    return [
        (HEIGHT - BOTTOM - inner * value / top, _number(value, locale, digits) + unit)
        for value in values
    ]


def _number(value: float, locale: str, digits: int = 1) -> str:
    """`12`, `0,5` (`0.5` in English): whole numbers bare, others with `digits` decimals, in
    the page's language."""
    if float(value).is_integer():
        return str(int(value))
    return format_decimal(value, format="0." + "0" * max(digits, 1), locale=locale)


def _week_label(week: str) -> str:
    """`2026-W48` → `S48`-like short label: the week number alone."""
    return week.rsplit("W", 1)[-1]


def stacked_bars(
    weeks: Sequence[str],
    series: Mapping[str, Mapping[str, float]],
    names: Mapping[str, str],
    locale: str = "fr_FR",
) -> Chart:
    """One bar a week, one coloured part a dimension (`series[dimension][week]`)."""
    chart = Chart(kind="bars")
    totals = [sum(values.get(week, 0.0) for values in series.values()) for week in weeks]
    top = _scale_top(max(totals, default=0.0))
    inner_width = WIDTH - LEFT - RIGHT
    inner_height = HEIGHT - TOP - BOTTOM
    slot = inner_width / max(len(weeks), 1)
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + slot * 0.15
        base = float(HEIGHT - BOTTOM)
        for rank, (dimension, values) in enumerate(series.items()):
            value = values.get(week, 0.0)
            if value <= 0:
                continue
            height = inner_height * value / top
            base -= height
            colour = COLOURS[rank % len(COLOURS)]
            text = f"{week} – {names.get(dimension, dimension)} – {_number(value, locale)}"
            chart.marks.append(Mark(x, base, slot * 0.7, height, colour, text))
        chart.labels.append((LEFT + index * slot + slot / 2, _week_label(week)))
    chart.ticks = _ticks(top, "", locale)
    chart.legend = [
        (COLOURS[rank % len(COLOURS)], names.get(dimension, dimension))
        for rank, dimension in enumerate(series)
    ]
    chart.empty = not chart.marks
    return chart


def lines(
    weeks: Sequence[str],
    series: Mapping[str, Mapping[str, float]],
    names: Mapping[str, str],
    unit: str = "",
    locale: str = "fr_FR",
) -> Chart:
    """One line a dimension over the weeks; a week without a value breaks nothing (skipped)."""
    chart = Chart(kind="lines")
    peak = max((value for values in series.values() for value in values.values()), default=0.0)
    top = _scale_top(peak)
    inner_width = WIDTH - LEFT - RIGHT
    inner_height = HEIGHT - TOP - BOTTOM
    slot = inner_width / max(len(weeks), 1)
    for rank, (dimension, values) in enumerate(series.items()):
        colour = COLOURS[rank % len(COLOURS)]
        points = []
        for index, week in enumerate(weeks):
            if week not in values:
                continue
            x = LEFT + index * slot + slot / 2
            y = HEIGHT - BOTTOM - inner_height * values[week] / top
            points.append(f"{x:.1f},{y:.1f}")
            said = _number(values[week], locale)
            text = f"{week} – {names.get(dimension, dimension)} – {said}{unit}"
            chart.marks.append(Mark(x, y, colour=colour, text=text))
        chart.lines.append((colour, " ".join(points), names.get(dimension, dimension)))
    chart.labels = [
        (LEFT + index * slot + slot / 2, _week_label(week)) for index, week in enumerate(weeks)
    ]
    chart.ticks = _ticks(top, unit, locale)
    chart.legend = [(colour, name) for colour, _, name in chart.lines]
    chart.empty = not chart.marks
    return chart


def totals(items: Sequence[tuple[str, float]], locale: str = "fr_FR") -> Chart:
    """One horizontal bar an item (its name written above it), longest first: a period's
    totals when the items are too many for bars a week (the orienteur's outcomes)."""
    shown = sorted(items, key=lambda item: -item[1])
    chart = Chart(kind="hbars", height=max(len(shown), 1) * 34 + 8)
    top = _scale_top(max((value for _, value in shown), default=0.0))
    inner_width = WIDTH - 8 - 48
    for index, (name, value) in enumerate(shown):
        y = 8 + index * 34
        width = inner_width * value / top
        chart.marks.append(
            Mark(8, y + 16, width, 12, COLOURS[0], f"{name} – {_number(value, locale)}")
        )
        chart.labels.append((y + 12, name))
        chart.ticks.append((y + 26, _number(value, locale)))
    chart.empty = not any(value for _, value in shown)
    return chart

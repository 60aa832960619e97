"""The shape STYLE.md asks for, checked: no module of `booking` over 400 lines, no function
rated D or worse by radon's cyclomatic complexity (21 and more)."""

from __future__ import annotations

from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit

PACKAGE = Path(__file__).resolve().parents[1] / "booking"
MODULES = sorted(PACKAGE.rglob("*.py"))
MOST_LINES = 400


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_modules_stay_short_and_functions_simple(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MOST_LINES
    too_complex = [
        f"{block.name} ({block.complexity})"
        for block in cc_visit(source)
        if cc_rank(block.complexity) not in {"A", "B", "C"}
    ]
    assert too_complex == []


def test_the_check_rates_a_tangled_function_d() -> None:
    branches = "\n".join(f"    if x == {n}:\n        return {n}" for n in range(25))
    [block] = cc_visit(f"def tangled(x):\n{branches}\n    return -1\n")
    assert cc_rank(block.complexity) == "D"

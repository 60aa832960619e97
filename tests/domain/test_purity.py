"""The domain imports nothing of the project outside itself, nor any framework."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "booking" / "domain"
# What the domain may import besides the standard library and itself (see STYLE: pure).
ALLOWED_THIRD_PARTY = {"holidays", "icalendar"}
FORBIDDEN = {"flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "pydantic", "phonenumbers"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside the domain package
                names.add("booking.domain")
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda path: path.name)
def test_each_domain_module_imports_only_the_standard_library_and_the_domain(
    path: Path,
) -> None:
    stray = sorted(
        name
        for name in imported_modules(path)
        if not (
            name.split(".")[0] in sys.stdlib_module_names
            or name.split(".")[0] in ALLOWED_THIRD_PARTY
            or name == "booking.domain"
            or name.startswith("booking.domain.")
        )
    )
    assert stray == []


def test_the_import_reader_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def late():\n    from flask import g\n    import sqlalchemy.orm\n")
    assert imported_modules(sample) == {"flask", "sqlalchemy.orm"}


def test_domain_imports_no_framework_in_a_fresh_interpreter() -> None:
    modules = sorted(f"booking.domain.{path.stem}" for path in DOMAIN.glob("[!_]*.py"))
    assert "booking.domain.hours" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
    )
    assert not [name for name in loaded if name.split(".")[0] in FORBIDDEN]
    project = [name for name in loaded if name.split(".")[0] == "booking"]
    assert all(
        name in {"booking", "booking.domain"} or name.startswith("booking.domain.")
        for name in project
    ), project

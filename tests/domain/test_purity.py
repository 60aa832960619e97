"""The domain imports nothing of the project outside itself, nor any framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "booking" / "domain"


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
    forbidden = {"flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "pydantic", "phonenumbers"}
    assert not [name for name in loaded if name.split(".")[0] in forbidden]
    project = [name for name in loaded if name.split(".")[0] == "booking"]
    assert all(
        name in {"booking", "booking.domain"} or name.startswith("booking.domain.")
        for name in project
    ), project

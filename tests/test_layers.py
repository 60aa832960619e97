"""Dependencies point one way (STYLE.md): web, cli, jobs → services → models, domain and
the infrastructure modules; the domain imports nothing of ours but the domain. Every
import counts, at the top of a module or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "booking"
INFRASTRUCTURE = {
    "clock",
    "config",
    "database",
    "db_rules",
    "errors",
    "extensions",
    "formatting",
    "keys",
    "logs",
    "mail",
    "metrics",
    "paths",
    "phones",
    "tokens",
    "urls",
}
# Each layer, and the layers it may import (itself included).
ALLOWED = {
    "domain": {"domain"},
    "models": {"domain", "models", "infrastructure"},
    "infrastructure": {"domain", "models", "infrastructure"},
    "services": {"domain", "models", "infrastructure", "services"},
    "web": {"domain", "models", "infrastructure", "services", "web"},
    "top": {"domain", "models", "infrastructure", "services", "web", "top"},
}


def layer(module: str) -> str:
    """The layer of a module of ours (`booking.services.slots.read` → `services`)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # booking itself: create_app wires everything
    if parts[1] in {"domain", "models", "services", "web"}:
        return parts[1]
    if parts[1] in INFRASTRUCTURE:
        return "infrastructure"
    return "top"  # cli, jobs


def module_name(path: Path) -> str:
    """`booking/services/slots/read.py` → `booking.services.slots.read`."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """The modules of ours a module's source imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "booking")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*package, *([base] if base else [])])
            if base.split(".")[0] != "booking":
                continue
            for alias in node.names:  # `from booking import clock` imports booking.clock
                submodule = f"{base}.{alias.name}"
                known = PACKAGE.parent / Path(*submodule.split("."))
                is_module = known.with_suffix(".py").exists() or known.is_dir()
                found.add(submodule if is_module else base)
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Each import of a module that runs against the layers."""
    here = layer(module)
    return sorted(
        f"{module} ({here}) imports {target} ({layer(target)})"
        for target in imports_of(source, module, is_package)
        if layer(target) not in ALLOWED[here]
    )


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(
    ("module", "source", "wrong"),
    [
        ("booking.services.slots.read", "from booking.web import api", True),
        ("booking.services.slots.read", "def late():\n    import booking.web.api\n", True),
        ("booking.services.bookings.make", "from booking import cli", True),
        ("booking.models.units", "from booking.services.reasons import get_reason", True),
        ("booking.domain.slots", "from booking import clock", True),
        ("booking.database", "from booking.services import health", True),
        ("booking.services.slots.read", "from booking import clock", False),
        ("booking.web.api", "from booking.services.slots.offered import slot_at", False),
        ("booking.services.bookings.make", "from . import once", False),
        ("booking.services.bookings.make", "from ...web import api", True),
    ],
)
def test_the_check_sees_a_wrong_import_wherever_it_is(
    module: str, source: str, wrong: bool
) -> None:
    assert bool(violations(source, module)) is wrong


def test_every_module_was_read() -> None:
    names = {module_name(path) for path in MODULES}
    assert {"booking.domain.capacity", "booking.services.slots.read", "booking.web.api"} <= names
    assert {layer(name) for name in names} == set(ALLOWED)

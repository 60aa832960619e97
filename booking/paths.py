"""Where the project's own files are: the data the service ships, its static files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout (or the installed tree)
DATA = ROOT / "data"
STATIC = ROOT / "static"

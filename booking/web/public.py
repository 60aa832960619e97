"""Public pages: search a unit, see its page."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from booking.domain.hours import describe_fr
from booking.services.health import readiness
from booking.services.units import (
    UnitHit,
    UnitNotFound,
    UnitSearch,
    get_unit,
    search_units,
    weekly_hours,
)

bp = Blueprint("public", __name__)

PAGE_SIZE = 20
_POSTCODE = re.compile(r"^\s*(\d{2,5})\s*$")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Home page with the unit search and its results."""
    q = request.args.get("q", "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    hits: list[UnitHit] = []
    total = 0
    if q:
        postcode = _POSTCODE.match(q)
        hits, total = search_units(
            UnitSearch(
                q="" if postcode else q,
                postcode=postcode.group(1) if postcode else "",
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        )
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("index.html", q=q, hits=hits, total=total, page=page, pages=pages)


@bp.get("/unites/<public_id>")
def unit(public_id: str) -> ResponseReturnValue:
    """A unit's page: address, phone, map link, weekly hours in French."""
    try:
        found = get_unit(public_id)
    except UnitNotFound:
        abort(404)
    return render_template("unit.html", unit=found, hours=describe_fr(weekly_hours(found)))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database answers and the job runner was seen recently."""
    report = readiness()
    return report, 200 if report["status"] == "ok" else 503

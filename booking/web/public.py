"""Public pages: home and search, a unit's page, health."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from booking.domain.hours import describe_fr
from booking.extensions import limiter
from booking.formatting import when_fr
from booking.models import Reason
from booking.security import limit
from booking.services.health import readiness
from booking.services.reasons import ReasonNotFound, get_reason, list_reasons
from booking.services.slots import first_slots
from booking.services.units import (
    UnitHit,
    UnitNotFound,
    UnitSearch,
    get_unit,
    search_units,
    weekly_hours,
)
from booking.web.schemas import parse_point

bp = Blueprint("public", __name__)

PAGE_SIZE = 10
_POSTCODE = re.compile(r"^\s*(\d{2,5})\s*$")


@bp.get("/")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def index() -> ResponseReturnValue:
    """Home page: the emergency notice, the search, and its results with next slots."""
    q = request.args.get("q", "").strip()[:100]
    near_text = request.args.get("near", "").strip()[:60]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    reasons = list_reasons()
    reason = _chosen_reason(request.args.get("motif", ""), reasons)
    try:
        near = parse_point(near_text) if near_text else None
    except ValueError:
        near, near_text = None, ""
    hits: list[UnitHit] = []
    total = 0
    next_slots: dict[int, str | None] = {}
    if q or near:
        postcode = _POSTCODE.match(q)
        hits, total = search_units(
            UnitSearch(
                q="" if postcode else q,
                postcode=postcode.group(1) if postcode else "",
                near=near,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        )
        if reason is not None:
            firsts = first_slots([hit.unit for hit in hits], reason)
            zones = {hit.unit.id: hit.unit.timezone for hit in hits}
            next_slots = {
                unit_id: when_fr(slot.start, zones[unit_id]) if slot else None
                for unit_id, slot in firsts.items()
            }
    return render_template(
        "index.html",
        q=q,
        near=near_text,
        hits=hits,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        reasons=reasons,
        reason=reason,
        next_slots=next_slots,
    )


def _chosen_reason(code: str, reasons: list[Reason]) -> Reason | None:
    """The reason chosen in the search form, else the shortest one (the next slot is for it)."""
    if code:
        try:
            return get_reason(code)
        except ReasonNotFound:
            pass
    return min(reasons, key=lambda reason: reason.duration_minutes, default=None)


@bp.get("/unites/<public_id>")
def unit(public_id: str) -> ResponseReturnValue:
    """A unit's page: address, phone, map link, weekly hours in French, reasons to book."""
    try:
        found = get_unit(public_id)
    except UnitNotFound:
        abort(404)
    return render_template(
        "unit.html",
        unit=found,
        hours=describe_fr(weekly_hours(found)),
        reasons=list_reasons(),
    )


@bp.get("/donnees-personnelles")
def privacy() -> ResponseReturnValue:
    """Legal notice and personal data: what is collected, why, for how long, your rights."""
    return render_template("privacy.html")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database answers and the job runner was seen recently."""
    report = readiness()
    return report, 200 if report["status"] == "ok" else 503

"""Public pages: home and search, a unit's page, legal notice, health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from booking.domain.geo import Point
from booking.domain.hours import describe
from booking.errors import ReasonNotFound
from booking.extensions import csrf, limiter
from booking.models import Reason
from booking.services.health import readiness
from booking.services.places.nearby import placed_by_territory, unit_point
from booking.services.places.search import UnitQuery, find_units
from booking.services.reasons import get_reason, list_reasons
from booking.services.slots.offered import unit_slots
from booking.services.units.reading import get_unit, weekly_hours
from booking.web import openapi
from booking.web.journey import by_day
from booking.web.languages import current_language, forget_language
from booking.web.schemas import parse_point
from booking.web.security import limit

bp = Blueprint("public", __name__)

PAGE_SIZE = 10
FIRST_DAYS = 2  # days of slots shown on a unit's page, before « every slot »


@dataclass(frozen=True)
class SearchForm:
    """The home page's search as typed: text, the place chosen among suggestions, a point
    (« Autour de moi »), reason, page."""

    q: str
    lieu: str
    near: str
    motif: str
    page: int

    @classmethod
    def read(cls, args: MultiDict[str, str]) -> SearchForm:
        """The form from the query string, trimmed to sane sizes."""
        page = max(1, min(args.get("page", 1, type=int) or 1, 1000))
        near, lieu = args.get("near", "").strip()[:60], args.get("lieu", "").strip()[:24]
        return cls(args.get("q", "").strip()[:100], lieu, near, args.get("motif", "")[:40], page)

    @property
    def point(self) -> Point | None:
        """The point of « Autour de moi », if one was sent and makes sense."""
        try:
            return parse_point(self.near) if self.near else None
        except ValueError:
            return None

    def search(self) -> UnitQuery | None:
        """The search to run, or None when nothing was asked."""
        if not self.q and not self.lieu and self.point is None:
            return None
        offset = (self.page - 1) * PAGE_SIZE
        return UnitQuery(self.q, self.lieu, self.point, limit=PAGE_SIZE, offset=offset)


@bp.get("/")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def index() -> ResponseReturnValue:
    """Home page: the emergency notice, the search, and its results with next slots."""
    form = SearchForm.read(request.args)
    reasons = list_reasons()
    reason = _chosen_reason(form.motif, reasons)
    search = form.search()
    finding = find_units(search, reason) if search else None
    pages = max(1, -(-finding.results.total // PAGE_SIZE)) if finding else 1
    discreet = bool(form.motif and reason and reason.code == form.motif and reason.discreet)
    return render_template(
        "index.html",
        form=form,
        reasons=reasons,
        reason=reason,
        finding=finding,
        pages=pages,
        quick_exit=discreet,
    )


def _chosen_reason(code: str, reasons: list[Reason]) -> Reason | None:
    """The reason chosen in the search form, else the shortest one (the next slot is for it)."""
    try:
        return get_reason(code)
    except ReasonNotFound:
        return min(reasons, key=lambda reason: reason.duration_minutes, default=None)


@bp.get("/unites/<public_id>")
def unit(public_id: str) -> ResponseReturnValue:
    """A unit's page. With a reason chosen, its first free slots come first (a phone shows
    them on the first screen), the unit's address, phone and hours after them, folded."""
    found = get_unit(public_id)
    hours = describe(weekly_hours(found), current_language())
    reasons = list_reasons()
    chosen = next((r for r in reasons if r.code == request.args.get("motif")), None)
    first_days = []
    if chosen is not None:
        offered = unit_slots(found, chosen)
        days = by_day(offered.slots, found.timezone)
        first_days = days[:FIRST_DAYS]
    point, approximate = unit_point(found)
    if placed_by_territory(found.id):
        point = None  # only its territory is known: the address says where it is
    return render_template(
        "unit.html",
        unit=found,
        point=point,
        approximate=approximate,
        hours=hours,
        reasons=reasons,
        chosen=chosen,
        first_days=first_days,
        quick_exit=bool(chosen and chosen.discreet),
    )


@bp.route("/quitter", methods=["GET", "POST"])
@csrf.exempt  # it only forgets the visit: nothing to forge (the script sends a beacon)
def quit() -> ResponseReturnValue:
    """The quick exit: forget the visit (its session cookie, which remembered a sensitive
    page, and the language chosen, which says the site was visited) and leave for a neutral
    site, in the same tab (GET, without JavaScript); the script leaves at once and posts
    here on the way."""
    session.clear()
    if request.method == "POST":
        forgotten = current_app.response_class(status=204)
        forgotten.headers["Cache-Control"] = "no-store"
        forget_language(forgotten)
        return forgotten
    response = redirect(current_app.config["QUICK_EXIT_URL"], code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    forget_language(response)
    return response


@bp.get("/donnees-personnelles")
def privacy() -> ResponseReturnValue:
    """Personal data: what is collected, why, for how long, your rights."""
    return render_template("privacy.html")


@bp.get("/mentions-legales")
def legal() -> ResponseReturnValue:
    """Who publishes the site, who directs the publication, who hosts it (from settings)."""
    return render_template("legal.html")


@bp.get("/accessibilite")
def accessibility() -> ResponseReturnValue:
    """The accessibility statement: partially compliant until an audit says otherwise."""
    return render_template("accessibility.html")


@bp.get("/api")
def api_documentation() -> ResponseReturnValue:
    """The API for people: every operation of the OpenAPI document, its parameters, body
    and answers; the document itself for tools."""
    codes = [reason.code for reason in list_reasons()]
    document = openapi.build_document(current_app, "api", enums={"motif": codes})
    return render_template("api.html", operations=api_operations(document), document=document)


def api_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of an OpenAPI document, in reading order, with their body's fields."""
    schemas = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            fields = []
            if body:
                schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[-1]]
                required = set(schema.get("required", []))
                for name, prop in schema.get("properties", {}).items():
                    fields.append({"name": name, "required": name in required, **prop})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "parameters": operation["parameters"],
                    "fields": fields,
                    "responses": operation["responses"],
                }
            )
    return operations


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database answers and the job runner was seen recently."""
    report = readiness()
    return report, 200 if report["status"] == "ok" else 503

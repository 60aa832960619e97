"""Open data of the public statistics (SPEC §14): the weekly figures as CSV, and its Table
Schema beside the units' (listed in `/opendata/datapackage.json`)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from booking.domain.statistics_schema import table_schema
from booking.services.statistics import published_csv

bp = Blueprint("statistics_data", __name__)


@bp.get("/statistiques.csv")
def statistics_csv() -> ResponseReturnValue:
    """Every weekly figure: week, indicator, dimension, value (`< 5` when masked)."""
    published = published_csv()
    response = Response(published.body, content_type="text/csv; charset=utf-8")
    response.set_etag(published.etag)
    response.last_modified = published.last_modified
    response.headers["Content-Disposition"] = 'inline; filename="statistiques.csv"'
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/opendata/statistiques.schema.json")
def statistics_schema() -> ResponseReturnValue:
    """The Table Schema the CSV validates against."""
    return table_schema()

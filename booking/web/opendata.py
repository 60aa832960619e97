"""Open data: the units and their hours as CSV (official layout), Table Schema and GeoJSON."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from booking.domain.statistics_schema import data_resource
from booking.domain.units_schema import data_package, table_schema
from booking.services.units.exporting import cached_export, dataset_version

bp = Blueprint("opendata", __name__, url_prefix="/opendata")


@bp.get("/")
def index() -> ResponseReturnValue:
    """What is published, under which licence, from which sources."""
    _, active, updated = dataset_version()
    return render_template("opendata.html", active=active, updated=updated)


@bp.get("/units.csv")
def units_csv() -> ResponseReturnValue:
    """The units in the official structured layout."""
    return _conditional("csv", "text/csv; charset=utf-8", "unites-gendarmerie.csv")


@bp.get("/units.geojson")
def units_geojson() -> ResponseReturnValue:
    """The units as a GeoJSON FeatureCollection with OSM `opening_hours`."""
    return _conditional("geojson", "application/geo+json", "unites-gendarmerie.geojson")


@bp.get("/units.schema.json")
def units_schema() -> ResponseReturnValue:
    """The Table Schema that the CSV validates against."""
    return table_schema()


@bp.get("/datapackage.json")
def datapackage() -> ResponseReturnValue:
    """A Data Package tying each CSV to its schema and its dialect: the units (`;`), the
    public statistics (`,`)."""
    csv_url = url_for("opendata.units_csv", _external=True)
    package = data_package(csv_url, url_for("opendata.units_schema", _external=True))
    package["resources"].append(
        data_resource(
            url_for("statistics_data.statistics_csv", _external=True),
            url_for("statistics_data.statistics_schema", _external=True),
        )
    )
    return package


def _conditional(kind: str, mimetype: str, filename: str) -> Response:
    """The export with ETag and Last-Modified; 304 when the client's copy is current."""
    exported = cached_export(kind)
    response = Response(exported.body, content_type=mimetype)  # charset given once
    response.set_etag(exported.etag)
    response.last_modified = exported.last_modified
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response

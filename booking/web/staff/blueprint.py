"""The staff blueprint and what its views share: the unit of the URL, the day asked for."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from booking.formatting import local
from booking.models import Unit
from booking.services.staff.accounts import reachable_unit
from booking.services.staff.agenda import unit_today
from booking.web.envelope import CONTENT_SECURITY_POLICY
from booking.web.security import keep_private
from booking.web.staff import oidc

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.after_request
def _never_stored(response: Response) -> Response:
    """No staff page is kept by a browser's or a proxy's cache (the audit log, the visits a
    closure would cancel, a new feed's secret…), nor sends a Referer elsewhere. With
    ProConnect, the logout form may lead to the provider's logout: browsers apply the
    policy's `form-action` to a form's redirects too."""
    if oidc.enabled():
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(current_app.config["PROCONNECT_ISSUER"]))
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return keep_private(response)


def staff_unit(public_id: str) -> Unit:
    """The unit of the URL if the agent belongs to it; NoAccess (a 404) otherwise."""
    return reachable_unit(current_user, public_id)


def day_asked(unit: Unit, values: MultiDict[str, str]) -> date:
    """The `date` of the query string or form, else the unit's today."""
    try:
        day = date.fromisoformat(values.get("date", ""))
    except ValueError:
        return unit_today(unit)
    return day if 2000 <= day.year <= 2100 else unit_today(unit)


def back_to_agenda(unit: Unit, moment: datetime | None = None) -> ResponseReturnValue:
    """Back to the agenda of the day concerned (the form's day when no moment is known)."""
    day = local(moment, unit.timezone).date() if moment else day_asked(unit, request.form)
    return redirect(url_for("staff.agenda", public_id=unit.public_id, date=day.isoformat()), 303)

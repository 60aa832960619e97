"""The agent's units, the audit log, the orienteur's counts, partners' API keys."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from booking.errors import ServiceError
from booking.logs import security_event
from booking.services import orientation
from booking.services.staff.accounts import units_of
from booking.services.staff.api_keys import issue_key, list_keys, revoke_key
from booking.services.staff.audit import recent_entries
from booking.web.security import keep_private
from booking.web.staff.blueprint import bp


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The agent's units (an administrator searches among all)."""
    q = request.args.get("q", "").strip()[:100]
    return render_template("staff/index.html", units=units_of(current_user, q), q=q)


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    """Every staff change, newest first (administrators only)."""
    if not current_user.is_admin:
        abort(404)
    return render_template("staff/audit.html", entries=recent_entries())


@bp.get("/orientation")
@login_required
def orientation_counts() -> ResponseReturnValue:
    """How often the orienteur led to each outcome (administrators only; counts only)."""
    if not current_user.is_admin:
        abort(404)
    periods = {days: orientation.outcome_counts(days) for days in (7, 30, 365)}
    return render_template(
        "staff/orientation.html", outcomes=orientation.tree().outcomes, periods=periods
    )


@bp.get("/api-keys")
@login_required
def api_keys() -> ResponseReturnValue:
    """Partners' API keys (administrators only): issue, revoke."""
    if not current_user.is_admin:
        abort(404)
    return render_template("staff/api_keys.html", keys=list_keys(), new_key="", error=None)


@bp.post("/api-keys")
@login_required
def issue_api_key() -> ResponseReturnValue:
    """A new key, shown once."""
    if not current_user.is_admin:
        abort(404)
    try:
        issued, key = issue_key(current_user, request.form.get("name", ""))
    except ServiceError as error:
        page = render_template("staff/api_keys.html", keys=list_keys(), new_key="", error=error)
        return page, error.status
    security_event("clé d'API délivrée", current_user.email, key=issued.prefix)
    page = render_template("staff/api_keys.html", keys=list_keys(), new_key=key, error=None)
    return keep_private(make_response(page))  # the key, shown once, stays in no cache


@bp.post("/api-keys/<int:key_id>/revoke")
@login_required
def revoke_api_key(key_id: int) -> ResponseReturnValue:
    """Revoke a key at once."""
    if not current_user.is_admin:
        abort(404)
    revoked = revoke_key(current_user, key_id)
    security_event("clé d'API révoquée", current_user.email, key=revoked.prefix)
    flash(f"Clé {revoked.prefix}… de {revoked.name} révoquée.", "success")
    return redirect(url_for("staff.api_keys"), code=303)

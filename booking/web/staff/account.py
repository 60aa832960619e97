"""Signing in and out, the agent's units, the audit log."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from booking.errors import ServiceError
from booking.extensions import limiter
from booking.logs import security_event
from booking.services import orientation
from booking.services.staff.accounts import authenticate, end_sessions, units_of
from booking.services.staff.api_keys import issue_key, list_keys, revoke_key
from booking.services.staff.audit import recent_entries
from booking.web.security import keep_private
from booking.web.staff.blueprint import bp


def _typed_account() -> str:
    """The account a sign-in names, as typed (lower case, trimmed, cut short)."""
    return request.form.get("email", "").strip().lower()[:254]


def _login_key() -> str:
    """Attempts per account *and* client address: a stranger who types an agent's address
    over and over locks out only themselves, never the agent (the per-address limit holds
    them back whatever the account)."""
    return f"login:{_typed_account()}:{get_remote_address()}"


def _locked_out(_limit: object) -> None:
    """A sign-in refused for too many attempts: a security event."""
    security_event("connexion bloquée (trop d'essais)", _typed_account())


@bp.get("/login")
def login() -> ResponseReturnValue:
    """The sign-in form."""
    return render_template("staff/login.html", error="", email="")


@bp.post("/login")
@limiter.limit("10 per minute", on_breach=_locked_out)
@limiter.limit("20 per hour", key_func=_login_key, on_breach=_locked_out)
def sign_in() -> ResponseReturnValue:
    """Sign in with email and password."""
    email = request.form.get("email", "")
    user = authenticate(email, request.form.get("password", ""))
    if user is None:
        security_event("échec de connexion", _typed_account())
        error = "Adresse ou mot de passe incorrect."
        return render_template("staff/login.html", error=error, email=email), 401
    login_user(user)
    security_event("connexion", user.email)
    return redirect(url_for("staff.index"), code=303)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out, here and on every other device of the account."""
    security_event("déconnexion", current_user.email)
    end_sessions(current_user)
    logout_user()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("staff.login"), code=303)


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

"""The agent's account (its open sessions, each with "end this session"; its second factor
and recovery codes), and the administrators' list of accounts (deactivate, reactivate,
reset a second factor, unlink a ProConnect identity)."""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from booking.logs import security_event
from booking.services.staff import identities, second_factor
from booking.services.staff import sessions as staff_sessions
from booking.services.staff.accounts import StaffError, all_accounts, set_active
from booking.web.security import keep_private
from booking.web.staff.blueprint import bp

METHODS = {
    second_factor.TOTP: "Mot de passe et code de l'application",
    second_factor.RECOVERY: "Mot de passe et code de secours",
    "proconnect": "ProConnect",
}


@bp.get("/compte")
@login_required
def my_account() -> ResponseReturnValue:
    """The agent's open sessions and second factor."""
    row = g.get("staff_session")
    return render_template(
        "staff/account.html",
        sessions=staff_sessions.open_sessions(current_user),
        current_id=row.id if row else None,
        methods=METHODS,
        enrolled=second_factor.enrolled(current_user),
        codes_left=second_factor.codes_left(current_user),
    )


@bp.post("/compte/sessions/<int:session_id>/fin")
@login_required
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of the agent's sessions (this one signs the agent out)."""
    row = g.get("staff_session")
    if not staff_sessions.end(current_user, session_id):
        abort(404)
    security_event("session fermée", current_user.email)
    if row is not None and row.id == session_id:
        logout_user()
        flash("Vous êtes déconnecté.", "success")
        return redirect(url_for("staff.login"), code=303)
    flash("La session est fermée : cet appareil devra se connecter de nouveau.", "success")
    return redirect(url_for("staff.my_account"), code=303)


@bp.post("/compte/codes-de-secours")
@login_required
def renew_recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not second_factor.enrolled(current_user):
        abort(404)
    codes = second_factor.renew_codes(current_user)
    security_event("codes de secours renouvelés", current_user.email)
    page = render_template("staff/recovery_codes.html", codes=codes, first=False)
    return keep_private(make_response(page))


@bp.get("/comptes")
@login_required
def accounts() -> ResponseReturnValue:
    """Every account (administrators only)."""
    if not current_user.is_admin:
        abort(404)
    return render_template("staff/accounts.html", accounts=all_accounts())


ACTIONS = {
    "desactiver": "compte désactivé",
    "reactiver": "compte réactivé",
    "second-facteur": "second facteur réinitialisé",
    "proconnect": "identité ProConnect déliée",
}


@bp.post("/comptes/action")
@login_required
def account_action() -> ResponseReturnValue:
    """An administrator's change to an account, recorded in the audit log."""
    if not current_user.is_admin:
        abort(404)
    action = request.form.get("action", "")
    email = request.form.get("email", "")[:254]
    if action not in ACTIONS:
        abort(400)
    try:
        if action in {"desactiver", "reactiver"}:
            set_active(current_user, email, active=action == "reactiver")
        elif action == "second-facteur":
            second_factor.reset(current_user, email)
        else:
            identities.unlink(current_user, email)
    except (StaffError, second_factor.WrongCode, identities.Refused) as error:
        flash(f"{str(error).capitalize()}.", "error")
        return redirect(url_for("staff.accounts"), code=303)
    security_event(ACTIONS[action], current_user.email, target=email)
    flash(f"{email} : {ACTIONS[action]}.", "success")
    return redirect(url_for("staff.accounts"), code=303)

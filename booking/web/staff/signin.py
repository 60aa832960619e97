"""Signing in with a password and its second factor, and signing out (SPEC §15).

The password is the first step; the account is signed in only after the second: a TOTP
code or a recovery code, or, at the first sign-in, setting up the authenticator app. Between
the two, the session cookie holds which account passed the first step, for five minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

import segno
from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.utils import login_url
from markupsafe import Markup

from booking import clock
from booking.extensions import db, limiter, login_manager
from booking.logs import security_event
from booking.models import StaffUser
from booking.services.staff import second_factor, sessions
from booking.services.staff.accounts import authenticate
from booking.web.security import keep_private
from booking.web.staff import oidc as proconnect
from booking.web.staff.blueprint import bp

PENDING: Final = "staff_pending"
PENDING_FOR: Final = timedelta(minutes=5)
ENDED_MESSAGES: Final = {
    sessions.IDLE: "Votre session a pris fin après {idle} minutes sans activité :"
    " connectez-vous de nouveau.",
    sessions.LIFETIME: "Votre session a atteint sa durée maximale de {hours} heures :"
    " connectez-vous de nouveau.",
    sessions.DEACTIVATED: "Ce compte est désactivé.",
    sessions.PASSWORDS_OFF: "La connexion par mot de passe n'est plus admise :"
    " connectez-vous avec ProConnect.",
}


@login_manager.user_loader
def _load_user(secret: str) -> StaffUser | None:
    """The signed-in agent of a request, or nothing (and why, for the sign-in page)."""
    found = sessions.find(secret)
    g.staff_session = found.row
    g.session_ended = found.ended
    return found.user


@login_manager.unauthorized_handler
def _sign_in_first() -> ResponseReturnValue:
    """To the sign-in page, saying why the session ended when it did."""
    config = current_app.config
    template = ENDED_MESSAGES.get(g.get("session_ended", ""))
    message = (
        template.format(idle=config["STAFF_IDLE_MINUTES"], hours=config["STAFF_SESSION_HOURS"])
        if template
        else login_manager.login_message
    )
    flash(message, "info")
    return redirect(login_url("staff.login", request.url))


def _typed_account() -> str:
    """The account a sign-in names, as typed (lower case, trimmed, cut short)."""
    return request.form.get("email", "").strip().lower()[:254]


def _login_key() -> str:
    """Attempts per account *and* client address: a stranger who types an agent's address
    over and over locks out only themselves, never the agent (the per-address limit holds
    them back whatever the account)."""
    return f"login:{_typed_account()}:{get_remote_address()}"


def _pending() -> StaffUser | None:
    """The account whose password was just checked, if that was less than 5 minutes ago."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    started = float(pending.get("at", 0))
    if clock.now().timestamp() - started > PENDING_FOR.total_seconds():
        session.pop(PENDING, None)
        return None
    user = db.session.get(StaffUser, int(pending.get("id", 0)))
    if user is None or not user.active or user.session_version != pending.get("v"):
        return None
    return user


def _code_key() -> str:
    """Second-step attempts per account, whatever the address."""
    pending = session.get(PENDING)
    account = pending.get("id", "") if isinstance(pending, dict) else ""
    return f"second-factor:{account}"


def _locked_out(_limit: object) -> None:
    """A sign-in refused for too many attempts: a security event."""
    security_event("connexion bloquée (trop d'essais)", _typed_account())


def _login_page(error: str = "", email: str = "", status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "staff/login.html",
            error=error,
            email=email,
            passwords=current_app.config["STAFF_PASSWORD_SIGN_IN"],
            proconnect=proconnect.enabled(),
        ),
        status,
    )


def refused_page(message: str) -> ResponseReturnValue:
    """The sign-in page saying why a ProConnect sign-in was refused."""
    return _login_page(message, status=403)


@bp.get("/login")
def login() -> ResponseReturnValue:
    """The sign-in page: ProConnect, and email and password with a second factor."""
    return _login_page()


@bp.post("/login")
@limiter.limit("10 per minute", on_breach=_locked_out)
@limiter.limit("20 per hour", key_func=_login_key, on_breach=_locked_out)
def sign_in() -> ResponseReturnValue:
    """The first step: email and password."""
    email = request.form.get("email", "")
    if not current_app.config["STAFF_PASSWORD_SIGN_IN"]:
        message = "La connexion par mot de passe n'est pas admise : utilisez ProConnect."
        return _login_page(message, status=403)
    user = authenticate(email, request.form.get("password", ""))
    if user is None:
        security_event("échec de connexion", _typed_account())
        return _login_page("Adresse ou mot de passe incorrect.", email, 401)
    session[PENDING] = {"id": user.id, "v": user.session_version, "at": clock.now().timestamp()}
    if second_factor.enrolled(user):
        return redirect(url_for("staff.second_step"), code=303)
    return redirect(url_for("staff.second_factor_setup"), code=303)


def open_for(
    user: StaffUser, method: str, acr: str = "", amr: str = "", id_token: str = ""
) -> None:
    """Open the session (a new secret in the cookie, the sign-in's leftovers dropped)."""
    session.pop(PENDING, None)
    device = device_of(request.headers.get("User-Agent", ""))
    opened = sessions.open_session(user, method, device, acr, amr, id_token)
    login_user(opened.user)
    security_event("connexion", user.email, method=method)


BROWSERS: Final = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
SYSTEMS: Final = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)


def device_of(user_agent: str) -> str:
    """What the account page shows of a device: "Firefox sur Windows" (the browser's full
    User-Agent is not kept)."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    if not browser and "Safari/" in user_agent:
        browser = "Safari"
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} sur {system}"
    return browser or system or "Navigateur inconnu"


def _signed_in(user: StaffUser, method: str) -> ResponseReturnValue:
    """Signed in: to the agent's units."""
    open_for(user, method)
    return redirect(url_for("staff.index"), code=303)


@bp.get("/login/code")
def second_step() -> ResponseReturnValue:
    """The second step: the code of the authenticator app, or a recovery code."""
    user = _pending()
    if user is None or not second_factor.enrolled(user):
        return redirect(url_for("staff.login"), code=303)
    return render_template("staff/second_step.html", error="")


def _code_attempts(view: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
    """Codes tried: ten a minute per address, five a minute and twenty an hour per account."""
    per_account = limiter.limit(
        "5 per minute;20 per hour", key_func=_code_key, on_breach=_locked_out
    )
    per_address = limiter.limit("10 per minute", on_breach=_locked_out)
    limited: Callable[[], ResponseReturnValue] = per_address(per_account(view))
    return limited


def _start_again() -> ResponseReturnValue:
    """The password step is over five minutes old (or never was): back to it."""
    flash("La connexion a expiré : tapez de nouveau votre mot de passe.", "info")
    return redirect(url_for("staff.login"), code=303)


@bp.post("/login/code")
@_code_attempts
def check_second_step() -> ResponseReturnValue:
    """Check the code; sign in."""
    user = _pending()
    if user is None:
        return _start_again()
    try:
        method = second_factor.check(user, request.form.get("code", ""))
    except second_factor.WrongCode as error:
        security_event("échec du second facteur", user.email)
        return render_template("staff/second_step.html", error=f"{str(error).capitalize()}."), 401
    if method == second_factor.RECOVERY:
        left = second_factor.codes_left(user)
        flash(
            f"Code de secours accepté. Il vous en reste {left} : renouvelez-les depuis"
            " « Mon compte ».",
            "info",
        )
    return _signed_in(user, method)


def _qr_code(uri: str) -> Markup:
    """The QR code of the authenticator app's link, as inline SVG (no request, no script)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, title="")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))


@bp.get("/login/second-facteur")
def second_factor_setup() -> ResponseReturnValue:
    """First sign-in of a password account: scan the QR code, type the first code."""
    user = _pending()
    if user is None or second_factor.enrolled(user):
        return redirect(url_for("staff.login"), code=303)
    return _setup_page(user, "")


def _setup_page(user: StaffUser, error: str, status: int = 200) -> ResponseReturnValue:
    secret = second_factor.pending_secret(user)
    uri = second_factor.provisioning_uri(user, secret)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "staff/second_factor_setup.html", qr=_qr_code(uri), secret=grouped, error=error
    )
    return keep_private(make_response(page, status))


@bp.post("/login/second-facteur")
@_code_attempts
def confirm_second_factor() -> ResponseReturnValue:
    """The first good code turns the second factor on; the recovery codes are shown once."""
    user = _pending()
    if user is None:
        return _start_again()
    try:
        codes = second_factor.confirm_setup(user, request.form.get("code", ""))
    except second_factor.WrongCode as error:
        security_event("échec du second facteur", user.email)
        return _setup_page(user, f"{str(error).capitalize()}.", 400)
    security_event("second facteur activé", user.email)
    open_for(user, second_factor.TOTP)
    page = render_template("staff/recovery_codes.html", codes=codes, first=True)
    return keep_private(make_response(page))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out of this session; at ProConnect too when it opened it."""
    row = g.get("staff_session")
    security_event("déconnexion", current_user.email)
    if row is not None:
        sessions.end(current_user, row.id, sessions.LOGOUT)
    logout_user()
    if row is not None and row.method == "proconnect" and proconnect.enabled():
        leaving = proconnect.logout_redirect(row.id_token)
        if leaving is not None:
            return leaving
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("staff.login"), code=303)


@bp.get("/deconnecte")
def logged_out() -> ResponseReturnValue:
    """Back from ProConnect's logout."""
    if not proconnect.enabled():
        abort(404)
    if proconnect.logout_confirmed():
        flash("Vous êtes déconnecté, de ProConnect aussi.", "success")
    else:
        flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("staff.login"), code=303)

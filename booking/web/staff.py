"""The staff workspace: sign in, the day's agenda, visits, cancellations, unit settings.

Every route that names a unit goes through `_unit()`: a unit the agent does not belong to
answers 404, exactly like a unit that does not exist, and shows nothing of it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from booking.domain.hours import (
    DAY_LABELS_FR,
    HoursError,
    Range,
    check_range,
    format_time,
    normalise_day,
    parse_time,
)
from booking.extensions import db, limiter, login_manager
from booking.formatting import local, time_fr, when_fr
from booking.metrics import CANCELLATIONS
from booking.models import AuditEntry, StaffUser, Unit
from booking.security import keep_private
from booking.services import agenda as agenda_service
from booking.services import unit_settings
from booking.services.bookings import BookingError
from booking.services.staff import NoAccess, authenticate, load_staff, reachable_unit
from booking.services.units import weekly_hours

bp = Blueprint("staff", __name__, url_prefix="/staff")

STATUS_LABELS = {
    "confirmed": "attendu",
    "honoured": "venu",
    "no_show": "absent",
    "cancelled_by_citizen": "annulé par le citoyen",
    "cancelled_by_unit": "annulé par l'unité",
    "pending": "à confirmer par courriel",
    "expired": "non confirmé à temps",
}


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    """The signed-in agent of a session."""
    return load_staff(user_id)


def _login_key() -> str:
    """Limit attempts per account too, not only per address."""
    return "login:" + request.form.get("email", "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("20 per hour", methods=["POST"], key_func=_login_key)
def login() -> ResponseReturnValue:
    """Sign in with email and password."""
    error = ""
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            login_user(user)
            return redirect(url_for("staff.index"), code=303)
        error = "Adresse ou mot de passe incorrect."
    status = 401 if error else 200
    return render_template(
        "staff/login.html", error=error, email=request.form.get("email", "")
    ), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out."""
    logout_user()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("staff.login"), code=303)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The agent's units (an administrator searches among all)."""
    q = request.args.get("q", "").strip()[:100]
    if current_user.is_admin:
        query = select(Unit).where(Unit.active.is_(True)).order_by(Unit.name).limit(50)
        if q:
            query = query.where(Unit.name.ilike(f"%{q}%") | Unit.public_id.ilike(f"%{q}%"))
        units = list(db.session.scalars(query))
    else:
        units = list(current_user.units)
    return render_template("staff/index.html", units=units, q=q)


@bp.get("/units/<public_id>/agenda")
@login_required
def agenda(public_id: str) -> ResponseReturnValue:
    """The day's visits in order, with counts per status; printable."""
    unit = _unit(public_id)
    day = _day(unit)
    found = agenda_service.day_agenda(unit, day)
    return render_template(
        "staff/agenda.html",
        unit=unit,
        agenda=found,
        day=day,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        labels=STATUS_LABELS,
        times={
            b.id: (time_fr(b.starts_at, unit.timezone), time_fr(b.ends_at, unit.timezone))
            for b in found.bookings
        },  # fmt: skip
        has_feed=agenda_service.has_feed(unit),
    )


@bp.get("/units/<public_id>/agenda.csv")
@login_required
def agenda_csv(public_id: str) -> ResponseReturnValue:
    """The day as a spreadsheet."""
    unit = _unit(public_id)
    day = _day(unit)
    body = agenda_service.agenda_csv(agenda_service.day_agenda(unit, day))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="agenda-{unit.public_id}-{day.isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/units/<public_id>/bookings/<reference>/visit")
@login_required
def visit(public_id: str, reference: str) -> ResponseReturnValue:
    """Mark a visit honoured or missed."""
    unit = _unit(public_id)
    try:
        booking = agenda_service.record_visit(
            current_user, unit, reference, request.form.get("outcome", "")
        )
    except BookingError as error:
        flash(error.message, "error")
        return _back_to_agenda(unit)
    flash(f"{booking.name} : {STATUS_LABELS[booking.status]}.", "success")
    return _back_to_agenda(unit, booking.starts_at)


@bp.post("/units/<public_id>/bookings/<reference>/cancel")
@login_required
def cancel(public_id: str, reference: str) -> ResponseReturnValue:
    """Cancel with a reason; the citizen is told by email."""
    unit = _unit(public_id)
    try:
        booking = agenda_service.cancel_by_unit(
            current_user, unit, reference, request.form.get("reason", "")
        )
    except BookingError as error:
        flash(error.message, "error")
        return _back_to_agenda(unit)
    CANCELLATIONS.labels("unit").inc()
    flash(f"Rendez-vous de {booking.name} annulé ; la personne est prévenue.", "success")
    return _back_to_agenda(unit, booking.starts_at)


@bp.route("/units/<public_id>/settings", methods=["GET", "POST"])
@login_required
def settings(public_id: str) -> ResponseReturnValue:
    """Opening hours (weekly and public holidays), desks, closures."""
    unit = _unit(public_id)
    hours, desks = weekly_hours(unit), unit.desks
    errors: dict[str, str] = {}
    if request.method == "POST":
        hours, desks, errors = _read_hours_form()
        if not errors:
            try:
                outcome = unit_settings.change_hours(
                    current_user, unit, hours, desks, confirmed=bool(request.form.get("confirm"))
                )
            except (unit_settings.SettingsError, HoursError) as error:
                errors = getattr(error, "fields", {}) or {"_": str(error)}
            else:
                if outcome.applied:
                    cancelled = len(outcome.affected)
                    flash(_saved_message(cancelled), "success")
                    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)
                return _confirm_page(unit, outcome, "settings", request.form)
    return render_template(
        "staff/settings.html",
        unit=unit,
        hours=_hours_fields(hours),
        desks=desks,
        errors=errors,
        closures=unit_settings.closures(unit),
        when=lambda moment: when_fr(moment, unit.timezone),
        day_labels=DAY_LABELS_FR,
    ), (422 if errors else 200)


@bp.post("/units/<public_id>/closures")
@login_required
def add_closure(public_id: str) -> ResponseReturnValue:
    """Add an exceptional closure (listing, then cancelling, the visits inside it)."""
    unit = _unit(public_id)
    try:
        start = _local_datetime(request.form.get("start", ""), unit)
        end = _local_datetime(request.form.get("end", ""), unit)
        outcome = unit_settings.add_closure(
            current_user, unit, start, end, request.form.get("reason", ""),
            confirmed=bool(request.form.get("confirm")),
        )  # fmt: skip
    except unit_settings.SettingsError as error:
        flash(" ; ".join([str(error), *error.fields.values()]), "error")
        return redirect(url_for("staff.settings", public_id=unit.public_id), 303)
    if not outcome.applied:
        return _confirm_page(unit, outcome, "closure", request.form)
    flash(_saved_message(len(outcome.affected), "Fermeture enregistrée"), "success")
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


@bp.post("/units/<public_id>/closures/<int:closure_id>/delete")
@login_required
def remove_closure(public_id: str, closure_id: int) -> ResponseReturnValue:
    """Delete a closure of this unit."""
    unit = _unit(public_id)
    try:
        unit_settings.remove_closure(current_user, unit, closure_id)
    except unit_settings.SettingsError:
        abort(404)
    flash("Fermeture supprimée.", "success")
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


@bp.post("/units/<public_id>/feed")
@login_required
def new_feed(public_id: str) -> ResponseReturnValue:
    """A new calendar-feed address (the previous one stops working); shown once."""
    unit = _unit(public_id)
    token = agenda_service.new_feed_token(current_user, unit)
    address = url_for("staff.feed", public_id=unit.public_id, token=token, _external=True)
    return render_template("staff/feed.html", unit=unit, address=address)


@bp.post("/units/<public_id>/feed/revoke")
@login_required
def revoke_feed(public_id: str) -> ResponseReturnValue:
    """Stop the calendar feed."""
    unit = _unit(public_id)
    agenda_service.revoke_feed(current_user, unit)
    flash("Le flux d'agenda est désactivé.", "success")
    return _back_to_agenda(unit)


@bp.get("/units/<public_id>/agenda.ics")
def feed(public_id: str) -> ResponseReturnValue:
    """The read-only calendar feed, for a calendar client holding the secret address."""
    try:
        body = agenda_service.feed_ics(public_id, request.args.get("token", ""))
    except NoAccess:
        abort(404)
    response = Response(body, mimetype="text/calendar")
    return keep_private(response)


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    """Every staff change, newest first (administrators only)."""
    if not current_user.is_admin:
        abort(404)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500))
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(
        select(AuditEntry.unit_id).where(AuditEntry.unit_id.is_not(None)))))}  # fmt: skip
    return render_template("staff/audit.html", entries=list(entries), units=units)


def _unit(public_id: str) -> Unit:
    """The unit of the URL if the agent belongs to it; 404 otherwise, whatever the reason."""
    try:
        return reachable_unit(current_user, public_id)
    except NoAccess:
        abort(404)


def _day(unit: Unit) -> date:
    """The `date` parameter, or the unit's today."""
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return agenda_service.unit_today(unit)
    return day if 2000 <= day.year <= 2100 else agenda_service.unit_today(unit)


def _back_to_agenda(unit: Unit, moment: datetime | None = None) -> ResponseReturnValue:
    """Back to the agenda of the day concerned."""
    day = local(moment, unit.timezone).date() if moment else _day_from_form(unit)
    return redirect(url_for("staff.agenda", public_id=unit.public_id, date=day.isoformat()), 303)


def _day_from_form(unit: Unit) -> date:
    """The day the agenda form was showing."""
    try:
        day = date.fromisoformat(request.form.get("date", ""))
    except ValueError:
        return agenda_service.unit_today(unit)
    return day if 2000 <= day.year <= 2100 else agenda_service.unit_today(unit)


def _local_datetime(value: str, unit: Unit) -> datetime:
    """A `datetime-local` field, in the unit's zone."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(unit.timezone))
    except ValueError:
        raise unit_settings.SettingsError(
            "Date invalide.", {"start": "date et heure attendues"}
        ) from None


def _read_hours_form() -> tuple[dict[int, list[Range]], int, dict[str, str]]:
    """Hours and desks from the settings form, with a French error per bad field."""
    hours: dict[int, list[Range]] = {}
    errors: dict[str, str] = {}
    for day in range(len(DAY_LABELS_FR)):
        for n in (1, 2, 3):
            name = f"h-{day}-{n}"
            start = request.form.get(f"{name}-start", "").strip()
            end = request.form.get(f"{name}-end", "").strip()
            if not start and not end:
                continue
            try:
                if not start or not end:
                    raise HoursError("indiquez le début et la fin")
                hours.setdefault(day, []).append(check_range(parse_time(start), parse_time(end)))
            except HoursError as error:
                errors[name] = f"{DAY_LABELS_FR[day]}, plage {n} : {error}"
        try:
            normalise_day(hours.get(day, []))
        except HoursError as error:
            errors.setdefault(f"h-{day}-1", f"{DAY_LABELS_FR[day]} : {error}")
    try:
        desks = int(request.form.get("desks", ""))
    except ValueError:
        desks = 0
        errors["desks"] = "Nombre de guichets : un nombre entier"
    return hours, desks, errors


def _hours_fields(hours: dict[int, list[Range]]) -> dict[str, str]:
    """Form values `h-day-n-start/end` of weekly hours."""
    values = {}
    for day, ranges in hours.items():
        for n, (start, end) in enumerate(ranges[:3], start=1):
            values[f"h-{day}-{n}-start"] = format_time(start)
            values[f"h-{day}-{n}-end"] = format_time(end)
    return values


def _confirm_page(unit: Unit, outcome: unit_settings.Outcome, kind: str, form: object) -> str:
    """The visits a change would cancel, with a button to confirm it."""
    return render_template(
        "staff/confirm.html",
        unit=unit,
        affected=[(b, when_fr(b.starts_at, unit.timezone), why) for b, why in outcome.affected],
        kind=kind,
        form=form,
    )


def _saved_message(cancelled: int, what: str = "Réglages enregistrés") -> str:
    """What a saved change did."""
    if not cancelled:
        return f"{what}."
    return f"{what} ; {cancelled} rendez-vous annulé(s), les personnes sont prévenues."

"""A unit's settings: weekly and holiday hours, desks, exceptional closures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from booking.domain.hours import DAY_LABELS_FR, describe_fr
from booking.errors import Invalid, ServiceError
from booking.models import Unit
from booking.services.staff.agenda import unit_today
from booking.services.units import settings as unit_settings
from booking.services.units.capacities import Capacities, set_capacities
from booking.services.units.reading import scheduled_hours, weekly_hours
from booking.web.forms import hours_fields, local_datetime, read_hours_form
from booking.web.staff.blueprint import bp, staff_unit


@bp.get("/units/<public_id>/settings")
@login_required
def settings(public_id: str) -> ResponseReturnValue:
    """Opening hours (weekly and public holidays), desks, closures."""
    unit = staff_unit(public_id)
    return _settings_page(unit, hours_fields(weekly_hours(unit), unit.desks))


@bp.post("/units/<public_id>/settings")
@login_required
def save_settings(public_id: str) -> ResponseReturnValue:
    """Save hours and desks; the visits they would cancel are listed first."""
    unit = staff_unit(public_id)
    confirmed = bool(request.form.get("confirm"))
    try:
        hours, desks = read_hours_form(request.form)
        effective = _day(request.form.get("a_partir_du", ""), "from")
        outcome = unit_settings.change_hours(
            current_user, unit, hours, desks, confirmed, effective=effective
        )
    except ServiceError as error:
        return _settings_page(unit, request.form, error)
    if not outcome.applied:
        return _confirm_page(unit, outcome, "staff.save_settings")
    when = outcome.effective.strftime("%d/%m/%Y") if outcome.effective else ""
    flash(
        _saved_message(len(outcome.affected), f"Horaires enregistrés à partir du {when}"), "success"
    )
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


def _day(text: str, field: str) -> date | None:
    """A date typed in a form (AAAA-MM-JJ), or None when left empty."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("Date invalide.", {field: "date attendue (jj/mm/aaaa)"}) from None


@bp.post("/units/<public_id>/closures")
@login_required
def add_closure(public_id: str) -> ResponseReturnValue:
    """Add an exceptional closure (listing, then cancelling, the visits inside it)."""
    unit = staff_unit(public_id)
    form, confirmed = request.form, bool(request.form.get("confirm"))
    try:
        start, end = _closure_period(form, unit.timezone)
        reason = form.get("reason", "")
        outcome = unit_settings.add_closure(current_user, unit, start, end, reason, confirmed)
    except ServiceError as error:
        values = hours_fields(weekly_hours(unit), unit.desks)
        return _settings_page(unit, values, closure_values=form, closure_error=error)
    if not outcome.applied:
        return _confirm_page(unit, outcome, "staff.add_closure")
    flash(_saved_message(len(outcome.affected), "Fermeture enregistrée"), "success")
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


@bp.post("/units/<public_id>/closures/<int:closure_id>/delete")
@login_required
def remove_closure(public_id: str, closure_id: int) -> ResponseReturnValue:
    """Delete a closure of this unit (another unit's is not found)."""
    unit = staff_unit(public_id)
    unit_settings.remove_closure(current_user, unit, closure_id)
    flash("Fermeture supprimée.", "success")
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


def _closure_period(form: Mapping[str, str], zone: str) -> tuple[datetime, datetime]:
    """The start and end of a closure as typed; Invalid naming each wrong field."""
    moments, errors = {}, {}
    for field in ("start", "end"):
        try:
            moments[field] = local_datetime(form.get(field, ""), zone, field)
        except Invalid as error:
            errors.update(error.fields)
    if errors:
        raise Invalid("Fermeture invalide.", errors)
    return moments["start"], moments["end"]


def _settings_page(
    unit: Unit,
    values: Mapping[str, str],
    error: ServiceError | None = None,
    closure_values: Mapping[str, str] | None = None,
    closure_error: ServiceError | None = None,
    lines_error: ServiceError | None = None,
) -> ResponseReturnValue:
    """The settings forms with the values given (what was typed, after an error)."""
    today = unit_today(unit)
    scheduled = scheduled_hours(unit)
    page = render_template(
        "staff/settings.html",
        unit=unit,
        values=values,
        today=today,
        tomorrow=today + timedelta(days=1),
        scheduled=scheduled,
        scheduled_text=describe_fr(scheduled[1]) if scheduled else [],
        error=error,
        closure_values=closure_values or {},
        closure_error=closure_error,
        closures=unit_settings.closures(unit),
        day_labels=DAY_LABELS_FR,
        lines_error=lines_error,
        too_many=getattr(lines_error, "visits", []),
    )
    if lines_error is not None:
        return page, lines_error.status
    return page, 422 if error or closure_error else 200


@bp.post("/units/<public_id>/remote-lines")
@login_required
def save_remote_lines(public_id: str) -> ResponseReturnValue:
    """An administrator sets how many phone and video appointments the unit serves at once;
    refused, with the visits listed, below what is booked."""
    unit = staff_unit(public_id)
    if not current_user.is_admin:
        abort(403)
    raw = request.form.get("remote_lines", "").strip()
    try:
        if not raw.isdigit():
            raise Invalid(fields={"remote_lines": "Un nombre entier, de 0 à 50."})
        set_capacities(current_user, unit.id, Capacities(remote_lines=int(raw)))
    except ServiceError as error:
        values = hours_fields(weekly_hours(unit), unit.desks)
        return _settings_page(unit, values, lines_error=error)
    flash(f"Lignes à distance : {raw}.", "success")
    return redirect(url_for("staff.settings", public_id=unit.public_id), 303)


def _confirm_page(unit: Unit, outcome: unit_settings.Outcome, action: str) -> str:
    """The visits a change would cancel, in date order, with a button to confirm it (and,
    for new hours, one to apply them from the first date that cancels nothing)."""
    return render_template(
        "staff/confirm.html",
        unit=unit,
        affected=outcome.affected,
        action=action,
        form=request.form,
        outcome=outcome,
    )


def _saved_message(cancelled: int, what: str = "Réglages enregistrés") -> str:
    """What a saved change did."""
    if not cancelled:
        return f"{what}."
    return f"{what} ; {cancelled} rendez-vous annulé(s), les personnes sont prévenues."

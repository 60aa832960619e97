"""The desk's day: the agenda (printable, CSV), visits honoured or missed, cancellations by
the unit, and the read-only calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, flash, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from booking.errors import ServiceError
from booking.logs import security_event
from booking.metrics import CANCELLATIONS
from booking.services.bookings import video
from booking.services.bookings.predeclarations import read_for_unit_staff
from booking.services.staff import agenda as agenda_service
from booking.services.staff.agenda import CHANNEL_LABELS, MODE_LABELS, STATUS_LABELS
from booking.services.waitlist.entries import waiting_for
from booking.web.security import keep_private
from booking.web.staff.blueprint import back_to_agenda, bp, day_asked, staff_unit


@bp.get("/units/<public_id>/agenda")
@login_required
def agenda(public_id: str) -> ResponseReturnValue:
    """The day's visits in order, with counts per status; printable."""
    unit = staff_unit(public_id)
    day = day_asked(unit, request.args)
    agenda = agenda_service.day_agenda(unit, day)
    page = render_template(
        "staff/agenda.html",
        unit=unit,
        agenda=agenda,
        declared=read_for_unit_staff(current_user, unit, agenda.bookings),
        waiting=waiting_for(unit.id),
        day=day,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        next_monday=_next_monday(agenda_service.unit_today(unit)),
        labels=STATUS_LABELS,
        modes=MODE_LABELS,
        channels=CHANNEL_LABELS,
        rooms={b.id: video.room_url(b) for b in agenda.bookings if b.mode == "video"},
        agents=agenda_service.agents_of(agenda.bookings),
        has_feed=agenda_service.has_feed(unit),
    )
    return keep_private(make_response(page))  # it shows what citizens pre-declared


def _next_monday(today: date) -> date:
    """The Monday after today (a week later when today is a Monday)."""
    return today + timedelta(days=7 - today.weekday())


@bp.get("/units/<public_id>/agenda.csv")
@login_required
def agenda_csv(public_id: str) -> ResponseReturnValue:
    """The day as a spreadsheet."""
    unit = staff_unit(public_id)
    day = day_asked(unit, request.args)
    response = Response(agenda_service.agenda_csv(agenda_service.day_agenda(unit, day)))
    response.mimetype = "text/csv"
    name = f"agenda-{unit.public_id}-{day.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/units/<public_id>/bookings/<reference>/visit")
@login_required
def visit(public_id: str, reference: str) -> ResponseReturnValue:
    """Mark a visit honoured or missed."""
    unit = staff_unit(public_id)
    outcome = request.form.get("outcome", "")
    try:
        booking = agenda_service.record_visit(current_user, unit, reference, outcome)
    except ServiceError as error:
        flash(error.message, "error")
        return back_to_agenda(unit)
    flash(f"{booking.name} : {STATUS_LABELS[booking.status]}.", "success")
    return back_to_agenda(unit, booking.starts_at)


@bp.post("/units/<public_id>/bookings/<reference>/cancel")
@login_required
def cancel(public_id: str, reference: str) -> ResponseReturnValue:
    """Cancel with a reason; the citizen is told by email."""
    unit = staff_unit(public_id)
    reason = request.form.get("reason", "")
    try:
        booking = agenda_service.cancel_by_unit(current_user, unit, reference, reason)
    except ServiceError as error:
        flash(error.message, "error")
        return back_to_agenda(unit)
    CANCELLATIONS.labels("unit").inc()
    flash(f"Rendez-vous de {booking.name} annulé ; la personne est prévenue.", "success")
    return back_to_agenda(unit, booking.starts_at)


@bp.post("/units/<public_id>/feed")
@login_required
def new_feed(public_id: str) -> ResponseReturnValue:
    """A new calendar-feed address (the previous one stops working); shown once."""
    unit = staff_unit(public_id)
    token = agenda_service.new_feed_token(current_user, unit)
    security_event("flux d'agenda délivré", current_user.email, unit=unit.public_id)
    address = url_for("staff.feed", public_id=unit.public_id, token=token, _external=True)
    return render_template("staff/feed.html", unit=unit, address=address)


@bp.post("/units/<public_id>/feed/revoke")
@login_required
def revoke_feed(public_id: str) -> ResponseReturnValue:
    """Stop the calendar feed."""
    unit = staff_unit(public_id)
    agenda_service.revoke_feed(current_user, unit)
    security_event("flux d'agenda révoqué", current_user.email, unit=unit.public_id)
    flash("Le flux d'agenda est désactivé.", "success")
    return back_to_agenda(unit)


@bp.get("/units/<public_id>/agenda.ics")
def feed(public_id: str) -> ResponseReturnValue:
    """The read-only calendar feed, for a calendar client holding the secret address."""
    body = agenda_service.feed_ics(public_id, request.args.get("token", ""))
    return keep_private(Response(body, mimetype="text/calendar"))

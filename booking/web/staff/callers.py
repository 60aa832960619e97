"""Booking for a caller from the workspace, the card to print, and invitation links."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from booking import clock
from booking.domain.capacity import ON_SITE
from booking.domain.words import DEFAULT_LANGUAGE, normal_language
from booking.errors import BookingNotFound, ServiceError
from booking.formatting import local
from booking.metrics import BOOKINGS
from booking.models import Channel, Reason, Unit
from booking.services.bookings.make import BookingDetails
from booking.services.bookings.once import Once
from booking.services.reasons import list_reasons
from booking.services.slots.offered import mode_refused, offered_modes, unit_slots
from booking.services.staff import invitations
from booking.services.staff.agenda import unit_today
from booking.services.staff.callers import book_for_caller, booking_of_unit, manage_link
from booking.tokens import new_secret
from booking.urls import external_url
from booking.web.journey import FORM_KEY
from booking.web.staff.blueprint import bp, day_asked, staff_unit


@bp.get("/units/<public_id>/rendez-vous/nouveau")
@login_required
def new_booking(public_id: str) -> ResponseReturnValue:
    """Choose a reason, a mode and a day; then a slot and the caller's details."""
    unit = staff_unit(public_id)
    return _booking_page(unit, request.args)


@bp.post("/units/<public_id>/rendez-vous/nouveau")
@login_required
def book_caller(public_id: str) -> ResponseReturnValue:
    """Book the slot chosen for the caller; what was typed stays on a refusal."""
    unit = staff_unit(public_id)
    form = request.form
    reason, mode = _reason_and_mode(unit, form)
    if reason is None:
        return _booking_page(unit, form, ServiceError("Choisissez un motif."), 422)
    if mode != (form.get("mode") or ON_SITE):  # no longer offered: never another mode
        refused = mode_refused(form.get("mode", ""))
        return _booking_page(unit, form, refused, refused.status)
    key = form.get("cle", "")
    once = Once.of_form(f"staff:{key}") if FORM_KEY.fullmatch(key) else None
    details = BookingDetails(
        start=form.get("start", ""),
        name=form.get("name", ""),
        email=form.get("email", ""),
        phone=form.get("phone", ""),
        comment=form.get("comment", ""),
        discreet=bool(form.get("discret")),
        mode=mode,
        language=normal_language(form.get("langue")) or DEFAULT_LANGUAGE,
    )
    try:
        booked = book_for_caller(current_user, unit, reason, details, once)
    except ServiceError as error:
        return _booking_page(unit, form, error, error.status)
    BOOKINGS.labels("staff").inc()
    reference = booked.booking.reference
    return redirect(url_for("staff.card", public_id=unit.public_id, reference=reference), 303)


def _reason_and_mode(unit: Unit, values: Mapping[str, str]) -> tuple[Reason | None, str]:
    """The reason and mode of the form, the mode among those the unit offers for it."""
    reason = next((r for r in list_reasons() if r.code == values.get("motif", "")), None)
    if reason is None:
        return None, ON_SITE
    modes = offered_modes(unit, reason)
    mode = values.get("mode", "") or ON_SITE
    return reason, mode if mode in modes else ON_SITE


def _booking_page(
    unit: Unit, values: MultiDict[str, str], error: ServiceError | None = None, status: int = 200
) -> ResponseReturnValue:
    """The page: the choices, the day's slots for them, the caller's fields."""
    reason, mode = _reason_and_mode(unit, values)
    day = day_asked(unit, values)
    slots = unit_slots(unit, reason, day, day, mode=mode).slots if reason else []
    page = render_template(
        "staff/new_booking.html",
        unit=unit,
        reasons=list_reasons(),
        reason=reason,
        mode=mode,
        modes=offered_modes(unit, reason) if reason else [ON_SITE],
        day=day,
        today=unit_today(unit),
        slots=slots,
        values=values,
        key=values.get("cle") or new_secret(),  # one booking per form, however many clicks
        error=error,
        errors=error.fields if error else {},
    )
    return make_response(page, status)


@bp.get("/units/<public_id>/rendez-vous/<reference>/fiche")
@login_required
def card(public_id: str, reference: str) -> ResponseReturnValue:
    """The card to read aloud or print for the caller: reference, when, how, what to bring."""
    unit = staff_unit(public_id)
    booking = booking_of_unit(unit, reference)
    if booking is None:
        raise BookingNotFound()
    return render_template(
        "staff/card.html",
        unit=unit,
        booking=booking,
        # Only for a caller the agent booked for, who has no email to find it in.
        manage_url=manage_link(booking) if booking.channel == Channel.STAFF else "",
        day=local(booking.starts_at, unit.timezone).date(),
    )


@bp.get("/units/<public_id>/invitations")
@login_required
def invitation_links(public_id: str) -> ResponseReturnValue:
    """The unit's invitation links of the last days, and a form to make one."""
    unit = staff_unit(public_id)
    return _invitations_page(unit)


def _invitations_page(
    unit: Unit, error: ServiceError | None = None, link: str = "", status: int = 200
) -> ResponseReturnValue:
    """The list, the form, and a link just made (shown once)."""
    now = clock.now()
    found = invitations.listed(unit, now)
    reasons = [r for r in list_reasons() if len(offered_modes(unit, r)) >= 1]
    page = render_template(
        "staff/invitations.html",
        unit=unit,
        links=[(i, invitations.state(i, now)) for i in found],
        reasons=[(r, offered_modes(unit, r)) for r in reasons],
        error=error,
        link=link,
    )
    return make_response(page, status)


@bp.post("/units/<public_id>/invitations")
@login_required
def make_invitation(public_id: str) -> ResponseReturnValue:
    """A new link for a reason and a mode, shown once."""
    unit = staff_unit(public_id)
    choice = request.form.get("choix", "")
    code, _, mode = choice.partition("|")
    reason = next((r for r in list_reasons() if r.code == code), None)
    if reason is None:
        return _invitations_page(unit, ServiceError("Choisissez un motif."), status=422)
    try:
        _, token = invitations.create(current_user, unit, reason, mode or ON_SITE)
    except ServiceError as error:
        return _invitations_page(unit, error, status=error.status)
    return _invitations_page(unit, link=external_url("journey.invitation", c=token))


@bp.post("/units/<public_id>/invitations/<int:invitation_id>/retirer")
@login_required
def revoke_invitation(public_id: str, invitation_id: int) -> ResponseReturnValue:
    """Withdraw a link."""
    unit = staff_unit(public_id)
    invitations.revoke(current_user, unit, invitation_id)
    flash("Le lien d'invitation est retiré : il ne permet plus de réserver.", "success")
    return redirect(url_for("staff.invitation_links", public_id=unit.public_id), 303)

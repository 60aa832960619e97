"""The page a booking's email links to: see it, cancel it, move it. GET never changes it."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from booking import clock
from booking.extensions import limiter
from booking.formatting import day_fr, local, time_fr, when_fr
from booking.metrics import CANCELLATIONS
from booking.models import Booking, BookingStatus
from booking.security import keep_private, limit
from booking.services.bookings import (
    BookingError,
    BookingNotFound,
    WrongToken,
    cancel_by_citizen,
    confirm_booking,
    find_booking,
    move_booking,
)
from booking.services.notifications import reason_label
from booking.services.reasons import ReasonNotFound
from booking.services.slots import unit_slots
from booking.services.units import UnitNotFound
from booking.web.forms import CancelForm, MoveForm

bp = Blueprint("manage", __name__, url_prefix="/rendez-vous")

MOVE_DAYS = 5
STATUS_LABELS = {
    BookingStatus.CONFIRMED: "confirmé",
    BookingStatus.CANCELLED_BY_CITIZEN: "annulé à votre demande",
    BookingStatus.CANCELLED_BY_UNIT: "annulé par l'unité",
    BookingStatus.HONOURED: "honoré",
    BookingStatus.NO_SHOW: "non honoré",
    BookingStatus.PENDING: "à confirmer",
    BookingStatus.EXPIRED: "non confirmé à temps",
}


@bp.get("/<reference>")
def show(reference: str) -> ResponseReturnValue:
    """The booking, with buttons that POST (mail scanners follow links, not buttons)."""
    token = request.args.get("token", "")
    booking = _booking_or_404(reference, token)
    return _page(booking, token, CancelForm(token=token), MoveForm(token=token))


@bp.post("/<reference>/annuler")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def cancel(reference: str) -> ResponseReturnValue:
    """Cancel, then show the page again."""
    form = CancelForm()
    token = form.token.data or ""
    if not form.validate_on_submit():
        abort(400)
    try:
        cancel_by_citizen(reference, token)
    except (BookingNotFound, WrongToken):
        abort(404)
    except BookingError as error:
        flash(error.message, "error")
    else:
        CANCELLATIONS.labels("citizen").inc()
        flash(
            "Votre rendez-vous est annulé. Un courriel de confirmation vous est envoyé.", "success"
        )
    return redirect(f"/rendez-vous/{reference}?token={token}", code=303)


@bp.post("/<reference>/confirmer")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def confirm(reference: str) -> ResponseReturnValue:
    """Confirm a held booking (email-verification mode)."""
    form = CancelForm()
    token = form.token.data or ""
    if not form.validate_on_submit():
        abort(400)
    try:
        confirm_booking(reference, token)
    except (BookingNotFound, WrongToken):
        abort(404)
    except BookingError as error:
        flash(error.message, "error")
    else:
        flash("Votre rendez-vous est confirmé. L'invitation pour votre agenda vous est envoyée.",
              "success")  # fmt: skip
    return redirect(f"/rendez-vous/{reference}?token={token}", code=303)


@bp.post("/<reference>/deplacer")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def move(reference: str) -> ResponseReturnValue:
    """Move to the chosen slot; on a lost race, say so and offer the others."""
    form = MoveForm()
    token = form.token.data or ""
    booking = _booking_or_404(reference, token)
    if not form.validate_on_submit():
        return _page(booking, token, CancelForm(token=token), form, status=422)
    try:
        moved = move_booking(reference, token, form.start.data)
    except BookingError as error:
        flash(error.message, "error")
        return _page(_booking_or_404(reference, token), token, CancelForm(token=token), form, 409)
    flash(
        f"Rendez-vous déplacé au {when_fr(moved.starts_at, moved.unit.timezone)}."
        " Un courriel avec la nouvelle invitation vous est envoyé.",
        "success",
    )
    return redirect(f"/rendez-vous/{reference}?token={token}", code=303)


def _booking_or_404(reference: str, token: str) -> Booking:
    """The booking of the link; a wrong link shows nothing of any booking."""
    try:
        return find_booking(reference, token)
    except (BookingNotFound, WrongToken):
        abort(404)


def _page(
    booking: Booking, token: str, cancel_form: CancelForm, move_form: MoveForm, status: int = 200
) -> ResponseReturnValue:
    """Render the manage page; the secret in the URL must not leak through Referer."""
    now = clock.now()
    changeable = booking.status == BookingStatus.CONFIRMED and booking.starts_at > now
    held = (
        booking.status == BookingStatus.PENDING
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > now
    )
    days: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if changeable:
        zone = booking.unit.timezone
        try:
            others = unit_slots(
                booking.unit.public_id, booking.reason_code, exclude_booking=booking.id
            ).slots
        except (UnitNotFound, ReasonNotFound):  # the unit closed for good: cancel only
            others = []
        for slot in others:
            if len(days) == MOVE_DAYS and day_fr(slot.start, zone) not in days:
                break  # a few days of choices; the journey's pages show the rest
            if slot.start != booking.starts_at:
                days[day_fr(slot.start, zone)].append(
                    (local(slot.start, zone).isoformat(), time_fr(slot.start, zone))
                )
    response = make_response(
        render_template(
            "booking_manage.html",
            booking=booking,
            token=token,
            when=when_fr(booking.starts_at, booking.unit.timezone),
            reason_label=reason_label(booking),
            status_label=STATUS_LABELS[
                BookingStatus.EXPIRED
                if booking.status == BookingStatus.PENDING and not held
                else BookingStatus(booking.status)
            ],
            changeable=changeable,
            held=held,
            days=dict(days),
            cancel_form=cancel_form,
            move_form=move_form,
        ),
        status,
    )
    return keep_private(response)

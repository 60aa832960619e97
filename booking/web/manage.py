"""The pages a booking's links open: confirmed, see it, cancel it, move it. GET never changes
anything (mail scanners follow links); a wrong link shows nothing of any booking (404)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.words import N_
from booking.errors import ServiceError, WrongLink
from booking.extensions import limiter
from booking.formatting import when_of
from booking.metrics import CANCELLATIONS
from booking.models import Booking, BookingStatus
from booking.services.bookings import video
from booking.services.bookings.change import (
    can_change,
    cancel_by_citizen,
    confirm_booking,
    confirms,
    find_booking,
    language_of,
    move_booking,
)
from booking.services.bookings.manage import manage_page
from booking.services.messages.notifications import calendar_download, reason_label
from booking.services.messages.outbox import reminds
from booking.web.discretion import is_discreet
from booking.web.envelope import CONTENT_SECURITY_POLICY
from booking.web.errors import error_response
from booking.web.forms import CancelForm, MoveForm
from booking.web.journey import by_day
from booking.web.languages import current_language, say, speak
from booking.web.security import keep_private, limit

bp = Blueprint("manage", __name__, url_prefix="/rendez-vous")
WEEK = re.compile(r"[0-9]{1,3}")

STATUS_LABELS = {
    BookingStatus.CONFIRMED: N_("confirmé"),
    BookingStatus.CANCELLED_BY_CITIZEN: N_("annulé à votre demande"),
    BookingStatus.CANCELLED_BY_UNIT: N_("annulé par l'unité"),
    BookingStatus.HONOURED: N_("honoré"),
    BookingStatus.NO_SHOW: N_("non honoré"),
    BookingStatus.PENDING: N_("à confirmer"),
    BookingStatus.EXPIRED: N_("non confirmé à temps"),
}


@bp.before_request
def _in_its_language() -> None:
    """A booking's pages, and what its buttons say, speak the language it was made in
    (SPEC §13), unless the visitor chose another with the selector."""
    reference = (request.view_args or {}).get("reference", "")
    language = language_of(reference, request.values.get("token", "")) if reference else None
    if language:
        speak(language)


@bp.errorhandler(WrongLink)
def wrong_link(_error: WrongLink) -> ResponseReturnValue:
    """A link whose reference or secret is wrong: as if nothing were there."""
    return error_response(404, "not_found", N_("Cette adresse ne correspond à aucune page."), {})


@bp.get("/<reference>/confirme")
def confirmed(reference: str) -> ResponseReturnValue:
    """What a citizen sees once booked: the reference and what happens next."""
    token = request.args.get("token", "")
    booking = find_booking(reference, token)
    page = render_template(
        "confirmed.html",
        booking=booking,
        token=token,
        reason_label=say(reason_label(booking)),
        reminder=reminds(booking.created_at, booking.starts_at),
        quick_exit=is_discreet(booking=booking),
        **remote_context(booking),
    )
    return with_video_reach(keep_private(make_response(page)), booking)


@bp.get("/<reference>/rendez-vous.ics")
def calendar(reference: str) -> ResponseReturnValue:
    """The booking as a calendar file, for a citizen who gave no email address (or lost
    the invitation): neutral for a discreet booking, never cached, no Referer."""
    booking = find_booking(reference, request.args.get("token", ""))
    if not can_change(booking, clock.now(), holds_too=True):
        abort(404)
    response = make_response(calendar_download(booking))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="rendez-vous.ics"'
    return keep_private(response)


@bp.get("/<reference>")
def show(reference: str) -> ResponseReturnValue:
    """The booking, with buttons that POST (mail scanners follow links, not buttons), and
    the slots of one week of the horizon to move to (`semaine`)."""
    week = request.args.get("semaine", 0, type=int) or 0
    confirmation = request.args.get("confirmation", "")
    return _page(reference, request.args.get("token", ""), week=week, confirmation=confirmation)


@bp.post("/<reference>/annuler")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def cancel(reference: str) -> ResponseReturnValue:
    """First step: what will be cancelled, and a button to confirm; second step (the form
    of the first, `confirme`): cancel, then show the page again."""
    form = CancelForm()
    page = None
    if form.validate_on_submit() and form.confirme.data != "oui":
        page = manage_page(reference, form.token.data or "")
    if page is not None and (page.changeable or page.held):
        body = render_template(
            "cancel_confirm.html",
            booking=page.booking,
            token=form.token.data,
            reason_label=say(reason_label(page.booking)),
            held=page.held,
            form=CancelForm(token=form.token.data, confirme="oui"),
            quick_exit=is_discreet(booking=page.booking),
        )
        return keep_private(make_response(body))
    return _act(reference, cancel_by_citizen, _cancelled, CANCELLATIONS.labels("citizen").inc)


def _cancelled(booking: Booking) -> str:
    """What a cancellation says: an email only for a booking that had been confirmed (a
    hold never confirmed had no invitation to withdraw, and gets no email)."""
    if booking.hold_expires_at is not None:
        return str(_("Votre demande de rendez-vous est annulée ; le créneau est libéré."))
    if not booking.email:
        return str(_("Votre rendez-vous est annulé ; le créneau est libéré."))
    return str(_("Votre rendez-vous est annulé. Un courriel de confirmation vous est envoyé."))


@bp.post("/<reference>/confirmer")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def confirm(reference: str) -> ResponseReturnValue:
    """Confirm a hold with the secret of its email; the page again, with its link kept (a
    mailbox at its limit can free a place, then confirm)."""
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    token, confirmation = form.token.data or "", form.confirmation.data or ""
    try:
        confirm_booking(reference, token, confirmation)
    except ServiceError as error:
        flash(say(error.message), "error")
    else:
        flash(
            _("Votre rendez-vous est confirmé. L'invitation pour votre agenda vous est envoyée."),
            "success",
        )
        confirmation = ""
    target = url_for("manage.show", reference=reference, token=token)
    if confirmation:
        target = url_for("manage.show", reference=reference, token=token, confirmation=confirmation)
    return redirect(target, code=303)


@bp.post("/<reference>/deplacer")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def move(reference: str) -> ResponseReturnValue:
    """Move to the chosen slot; on a lost race, say so and offer the others."""
    form = MoveForm()
    token = form.token.data or ""
    week = int(form.semaine.data) if WEEK.fullmatch(form.semaine.data or "") else 0
    if not form.validate_on_submit():
        return _page(reference, token, week, move_form=form, status=422)
    try:
        moved = move_booking(reference, token, form.start.data)
    except ServiceError as error:
        flash(say(error.message), "error")
        return _page(reference, token, week, move_form=form, status=error.status)
    when = when_of(moved.starts_at, moved.unit.timezone, current_language())
    if moved.email:
        done = _(
            "Rendez-vous déplacé au %(when)s. Un courriel avec la nouvelle invitation vous est"
            " envoyé.",
            when=when,
        )
    else:
        done = _("Rendez-vous déplacé au %(when)s.", when=when)
    flash(done, "success")
    return redirect(url_for("manage.show", reference=reference, token=token), code=303)


def _act(
    reference: str,
    action: Callable[[str, str], Any],
    done: str | Callable[[Any], str],
    count: Callable[[], object] = lambda: None,
) -> ResponseReturnValue:
    """Run a button's action, say how it went, and show the page again."""
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    try:
        result = action(reference, token)
    except ServiceError as error:
        flash(say(error.message), "error")
    else:
        count()
        flash(done if isinstance(done, str) else done(result), "success")
    return redirect(url_for("manage.show", reference=reference, token=token), code=303)


def _page(
    reference: str,
    token: str,
    week: int = 0,
    move_form: MoveForm | None = None,
    status: int = 200,
    confirmation: str = "",
) -> ResponseReturnValue:
    """The manage page; the secrets in the URL must not leak through Referer. A hold shows
    its confirm button only with the secret of its email (`confirmation`)."""
    page = manage_page(reference, token, week)
    confirmable = page.held and confirms(page.booking, confirmation)
    days = by_day(page.move_slots, page.booking.unit.timezone)
    body = render_template(
        "booking_manage.html",
        page=page,
        booking=page.booking,
        token=token,
        reason_label=say(reason_label(page.booking)),
        status_label=say(STATUS_LABELS[page.status]),
        days=days,
        cancel_form=CancelForm(token=token),
        confirm_form=CancelForm(token=token, confirmation=confirmation) if confirmable else None,
        move_form=move_form or MoveForm(token=token, semaine=str(page.week)),
        quick_exit=is_discreet(booking=page.booking),
        **remote_context(page.booking),
    )
    return with_video_reach(keep_private(make_response(body, status)), page.booking)


def remote_context(booking: Booking) -> dict[str, Any]:
    """What the pages of a phone or video appointment show: the room link, whether it can
    be joined now, when it opens, and the video service's origin for the reach test."""
    room = video.room_url(booking)
    return {
        "room": room,
        "room_open": video.is_open(booking, clock.now()),
        "room_opens": video.opens_at(booking),
        "room_origin": video.provider_origin() if room else "",
    }


def with_video_reach(response: Response, booking: Booking) -> Response:
    """A video appointment's page may reach the video service, for its reach test."""
    origin = video.provider_origin() if video.room_url(booking) else ""
    if origin:
        allowed = f"connect-src 'self' {origin}"
        policy = CONTENT_SECURITY_POLICY.replace("connect-src 'self'", allowed)
        response.headers["Content-Security-Policy"] = policy
    return response

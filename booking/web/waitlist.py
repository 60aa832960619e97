"""The waiting list's pages: join from a unit's slots, confirm the address, leave."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking import clock
from booking.domain.words import N_
from booking.errors import Invalid, ServiceError, WrongLink
from booking.extensions import csrf, limiter
from booking.models import EntryStatus, Reason, Unit
from booking.services import challenge
from booking.services.messages.notifications import NEUTRAL_LABEL
from booking.services.reasons import get_reason
from booking.services.slots.offered import booking_window
from booking.services.units.reading import get_unit
from booking.services.waitlist import entries
from booking.services.waitlist import join as joining
from booking.web.discretion import is_discreet
from booking.web.errors import said
from booking.web.forms import WEEKDAY_VALUES, WaitlistForm
from booking.web.languages import say, speak
from booking.web.security import email_key, keep_private, limit

bp = Blueprint("waitlist", __name__)
DAYS = [
    N_("Lundi"),
    N_("Mardi"),
    N_("Mercredi"),
    N_("Jeudi"),
    N_("Vendredi"),
    N_("Samedi"),
    N_("Dimanche"),
]


@bp.get("/unites/<public_id>/liste-attente")
def form(public_id: str) -> ResponseReturnValue:
    """The form to wait for a slot of this unit (and nearby ones) for a reason."""
    unit, reason = get_unit(public_id), get_reason(request.args.get("motif", ""))
    horizon = booking_window(unit, clock.now())[1]
    form = WaitlistForm(
        mode=request.args.get("mode", "on_site"),
        unites=[unit.public_id],
        jours=WEEKDAY_VALUES[:5],
        moments=["am", "pm"],
        jusqu_au=horizon.isoformat(),
    )
    return _form_page(unit, reason, form)


@bp.post("/unites/<public_id>/liste-attente")
@csrf.exempt  # the form checks its own CSRF token, so an expired one keeps what was typed
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking")
@limiter.shared_limit(lambda: limit("BOOKING_EMAIL"), scope="booking_email", key_func=email_key)
def join(public_id: str) -> ResponseReturnValue:
    """Join (unconfirmed until the email's link is followed); the same answer for every
    address."""
    unit, reason = get_unit(public_id), get_reason(request.args.get("motif", ""))
    form = WaitlistForm()
    if not form.validate_on_submit():
        wrong = form.invalid()
        return _form_page(unit, reason, form, wrong), wrong.status
    if form.website.data:  # the honeypot
        return redirect(url_for("waitlist.sent"), code=303)
    try:
        challenge.check_form(request.form)
        joining.join(reason, form.request())
    except Invalid as error:
        return _form_page(unit, reason, form, form.on_form(error)), error.status
    except ServiceError as error:
        return _form_page(unit, reason, form, error), error.status
    return redirect(url_for("waitlist.sent"), code=303)


def _form_page(
    unit: Unit, reason: Reason, form: WaitlistForm, error: ServiceError | None = None
) -> str:
    """The form, with what was typed and the errors."""
    today, horizon = booking_window(unit, clock.now())
    shown = said(error) if error is not None else None  # in the page's language
    return render_template(
        "waitlist_form.html",
        unit=unit,
        reason=reason,
        nearby=joining.nearby_units(unit),
        days=[say(day) for day in DAYS],
        horizon=horizon,
        today=today,
        form=form,
        error=shown,
        errors=shown.fields if shown else {},
        challenge_on=challenge.required(),
        quick_exit=is_discreet(reason),
    )


@bp.get("/liste-attente/envoyee")
def sent() -> ResponseReturnValue:
    """What happens next: the email to confirm (the same page for every address)."""
    return render_template("waitlist_sent.html")


@bp.before_request
def _in_its_language() -> None:
    """An entry's pages speak the language it was made in (SPEC §13), unless the visitor
    chose another with the selector."""
    reference = (request.view_args or {}).get("reference", "")
    if reference and request.endpoint != "waitlist.join":
        try:
            entry = entries.find_entry(reference, request.values.get("token", ""), leaving=True)
        except WrongLink:
            return
        speak(entry.language)


@bp.get("/liste-attente/<reference>")
def show(reference: str) -> ResponseReturnValue:
    """An entry's page, from its emails: confirm the address, or leave the list."""
    token = request.args.get("token", "")
    entry = entries.find_entry(reference, token, leaving=True)
    discreet = entry.reason.discreet
    page = render_template(
        "waitlist_entry.html",
        entry=entry,
        token=token,
        may_confirm=not entries.is_leave_token(entry, token),
        Status=EntryStatus,
        reason_label=say(NEUTRAL_LABEL if discreet else entry.reason.label),
        quick_exit=discreet,
    )
    return keep_private(make_response(page))


@bp.post("/liste-attente/<reference>/confirmer")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def confirm(reference: str) -> ResponseReturnValue:
    """Confirm the address: the person now waits."""
    token = request.form.get("token", "")
    entry = entries.confirm_entry(reference, token)
    if entry.status == EntryStatus.WAITING:
        flash(_("Votre inscription est confirmée : vous serez prévenu(e) par courriel."), "success")
    else:
        flash(_("Cette inscription est terminée : elle ne peut plus être confirmée."), "error")
    return redirect(url_for("waitlist.show", reference=reference, token=token), code=303)


@bp.post("/liste-attente/<reference>/quitter")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
def leave(reference: str) -> ResponseReturnValue:
    """Leave the list: no more offers."""
    token = request.form.get("token", "")
    entry = entries.leave(reference, token)
    if entries.is_leave_token(entry, token):  # says nothing of the entry's state
        flash(_("C'est fait : plus aucune proposition ne sera envoyée pour cette inscription."))
    elif entry.status == EntryStatus.LEFT:
        flash(
            _("Vous avez quitté la liste d'attente : vous ne recevrez plus de propositions."),
            "success",
        )
    else:
        flash(_("Cette inscription est déjà terminée."), "error")
    return redirect(url_for("waitlist.show", reference=reference, token=token), code=303)

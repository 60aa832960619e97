"""The citizen's booking journey: reason → slot → details → confirmation."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from booking import clock
from booking.domain.capacity import MODES, ON_SITE
from booking.domain.slots import Slot, hours_on
from booking.domain.words import N_
from booking.errors import Invalid, ServiceError, SlotUnavailable
from booking.extensions import csrf, limiter
from booking.formatting import day_of, local
from booking.keys import purpose_key
from booking.metrics import BOOKINGS
from booking.models import Channel, Reason, Unit
from booking.services import challenge
from booking.services.bookings.contact import parse_start
from booking.services.bookings.make import book
from booking.services.bookings.once import Once, spent, will_replay
from booking.services.bookings.predeclarations import form_of
from booking.services.places.search import nearby_with_slots
from booking.services.reasons import get_reason
from booking.services.slots.offered import last_week, offered_modes, unit_slots, week_slots
from booking.services.staff import invitations
from booking.services.units.reading import get_unit, scheduled_hours, weekly_hours
from booking.tokens import new_secret
from booking.web import admission
from booking.web.discretion import is_discreet
from booking.web.errors import said
from booking.web.forms import BookingForm
from booking.web.languages import current_language
from booking.web.security import email_key, keep_private, limit

bp = Blueprint("journey", __name__)

FORM_KEYS_KEPT = 10  # slots whose form key the session remembers
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")  # what new_secret() makes


@bp.get("/unites/<public_id>/creneaux")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def slots(public_id: str) -> ResponseReturnValue:
    """Offered slots for a reason, a week at a time, grouped by day, as buttons."""
    unit, reason = get_unit(public_id), get_reason(request.args.get("motif", ""))
    modes = offered_modes(unit, reason)
    mode = _mode_asked()
    return _slots_page(unit, reason, mode if mode in modes else ON_SITE, modes)


def _slots_page(
    unit: Unit, reason: Reason, mode: str, modes: list[str], invitation: str = ""
) -> str:
    """The week asked (`semaine`) of a unit's slots for a reason in a mode; on the first
    week without any on site, the nearest units that have one (not for an invitation,
    which names its unit)."""
    week = max(0, min(request.args.get("semaine", 0, type=int) or 0, last_week()))
    found = week_slots(unit, reason, week, mode=mode)
    lonely = not found.slots and not week and mode == ON_SITE and not invitation
    return render_template(
        "slots.html",
        unit=unit,
        reason=reason,
        mode=mode,
        modes=modes,
        invitation=invitation,
        found_any=bool(found.slots),
        days=by_day(found.slots, unit.timezone, open_days(unit, found.first_day, found.last_day)),
        first_day=found.first_day,
        last_day=found.last_day,
        week=week,
        more=week < last_week(),
        nearby=nearby_with_slots(unit, reason) if lonely else [],
        quick_exit=is_discreet(reason),
    )


@bp.get("/unites/<public_id>/rendez-vous")
def details(public_id: str) -> ResponseReturnValue:
    """The short form for the slot chosen."""
    unit, reason, start = _chosen(public_id)
    invited = _invited(unit, reason)
    waiting, ticket = admission.at_the_door() if invited is None else (None, None)
    if waiting is not None:
        return waiting
    key = _form_key(unit, reason, start, _mode_asked())
    form = BookingForm(cle=key, discret=is_discreet(reason))
    return admission.keep_ticket(make_response(_details_page(unit, reason, form, start)), ticket)


@bp.post("/unites/<public_id>/rendez-vous")
@csrf.exempt  # the form checks its own CSRF token, so an expired one keeps what was typed
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking")
@limiter.shared_limit(lambda: limit("BOOKING_EMAIL"), scope="booking_email", key_func=email_key)
def submit(public_id: str) -> ResponseReturnValue:
    """Book; a lost race keeps what was typed and offers the day's other slots."""
    unit, reason, start = _chosen(public_id)
    form = BookingForm()
    if not form.validate_on_submit():
        expired = Invalid(N_("Le formulaire a expiré : validez-le à nouveau."))
        return _details_page(unit, reason, form, start, expired, status=400)
    if form.website.data:  # the honeypot: answer as if booked, book nothing
        return redirect(url_for("public.index"), code=303)
    key = form.cle.data or ""
    once = Once.of_form(key) if FORM_KEY.fullmatch(key) else None  # else: a form of old
    try:
        if not will_replay(once):
            challenge.check_form(request.form)
        if form.autre.data and not form.start.data:
            raise Invalid(fields={"start": N_("Choisissez l'un des créneaux proposés.")})
        details = form.details(start.isoformat(), pre_declaration_typed(), _mode_asked())
        invited = _invited(unit, reason)
        if invited is None:
            ticket = admission.booking_allowed() if not will_replay(once) else 0
            booked = book(unit, reason, details, once=once)
            admission.booked(ticket)
        else:  # the agent's link vouches for the booking: confirmed at once, the link spent
            details = replace(
                details,
                channel=Channel.INVITATION,
                booked_by_id=invited.invitation.created_by_id,
            )
            spend = invitations.spend(invited.invitation.id, clock.now())
            booked = book(unit, reason, details, once=once, trusted=True, within=spend)
    except ServiceError as error:
        return _details_page(unit, reason, form, start, error, status=error.status)
    if not booked.replayed:
        BOOKINGS.labels("web").inc()
    target = url_for("manage.confirmed", reference=booked.booking.reference, token=booked.token)
    return redirect(target, code=303)


@bp.get("/invitation")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def invitation() -> ResponseReturnValue:
    """An invitation link (SPEC §12): the unit's slots for the reason and mode it names, a
    week at a time, without the orienteur; its secret is carried to the booking."""
    token = request.args.get("c", "")
    opened = invitations.open_link(token)
    mode = opened.invitation.mode
    page = _slots_page(opened.unit, opened.reason, mode, [mode], invitation=token)
    return keep_private(make_response(page))


def _invited(unit: Unit, reason: Reason) -> invitations.Opened | None:
    """The invitation the page carries (`invitation`), checked against its unit, reason and
    mode; None without one. A link that served, expired or was withdrawn says so."""
    token = request.values.get("invitation", "")
    if not token:
        return None
    opened = invitations.open_link(token)
    if (opened.unit.id, opened.reason.code) != (unit.id, reason.code):
        abort(404)
    if opened.invitation.mode != _mode_asked():
        abort(404)
    return opened


def _mode_asked() -> str:
    """The mode of the link (on site when none); 404 for what is no mode."""
    mode = request.values.get("mode", "") or ON_SITE
    if mode not in MODES:
        abort(404)
    return mode


def _form_key(unit: Unit, reason: Reason, start: datetime, mode: str = ON_SITE) -> str:
    """The one-time key of the form of a slot, kept in the session: the same page shown
    again (back button, reload) sends the same key; a new one once its booking is no more."""
    # A list of [slot, key], oldest first (a mapping would come back sorted by slot from
    # the session cookie, and the oldest could not be told).
    kept = session.get("cles")
    pairs: list[list[str]] = kept if isinstance(kept, list) else []
    # The slot is named by a keyed digest: the cookie (signed, not encrypted) would
    # otherwise show the unit, the reason and the time to whoever reads it.
    slot = _slot_name(f"{unit.public_id}|{reason.code}|{mode}|{start.isoformat()}")
    key = next((pair[1] for pair in pairs if pair[0] == slot), None)
    if key is None or spent(Once.of_form(key)):
        key = new_secret()
        pairs = [pair for pair in pairs if pair[0] != slot][-(FORM_KEYS_KEPT - 1) :]
        session["cles"] = [*pairs, [slot, key]]
    return key


def _slot_name(slot: str) -> str:
    """A slot as the session cookie names it: an HMAC, short, that says nothing."""
    digest = hmac.new(purpose_key("fingerprints"), b"form-slot:" + slot.encode(), "sha256")
    return digest.hexdigest()[:32]


def _chosen(public_id: str) -> tuple[Unit, Reason, datetime]:
    """The unit, reason and start of the link; another start picked after a lost race."""
    unit, reason = get_unit(public_id), get_reason(request.args.get("motif", ""))
    try:
        start = parse_start(request.values.get("debut", ""))
    except ServiceError:
        abort(404)
    picked = request.form.get("start", "")
    return unit, reason, parse_start(picked) if picked else start


def _details_page(
    unit: Unit,
    reason: Reason,
    form: BookingForm,
    start: datetime,
    error: ServiceError | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The details form, with its errors and the other slots of a lost race."""
    # The slot is lost when the booking found it taken, or while another is still to be
    # picked; a mistake in a field, once another slot is picked, is shown as any mistake.
    picking = bool(form.autre.data) and isinstance(error, Invalid) and "start" in error.fields
    lost = isinstance(error, SlotUnavailable) or picking
    others = _same_day(unit, reason, start) if lost else []
    shown = said(error) if error is not None else None  # in the page's language
    context = {"unit": unit, "reason": reason, "form": form, "start": start, "error": shown}
    context["mode"] = _mode_asked()
    context["invitation"] = request.values.get("invitation", "")
    page = render_template(
        "details.html",
        alternatives=others,
        lost=lost,
        quick_exit=is_discreet(reason),
        predeclaration=form_of(reason),
        answers=pre_declaration_typed(),
        challenge_on=challenge.required(),
        **context,
    )
    # What was typed is shown again (a pre-declaration too): kept out of every cache.
    return keep_private(make_response(page, status))


def pre_declaration_typed() -> dict[str, str]:
    """The pre-declaration's fields as posted (`pre_declaration.<name>`), by name."""
    prefix = "pre_declaration."
    return {
        name.removeprefix(prefix)[:40]: value
        for name, value in request.form.items()
        if name.startswith(prefix) and value.strip()
    }


def _same_day(unit: Unit, reason: Reason, start: datetime) -> list[Slot]:
    """Other offered slots of the day of a slot just lost."""
    if not unit.active or not reason.active:
        return []
    day = local(start, unit.timezone).date()
    return unit_slots(unit, reason, day, day, mode=_mode_asked()).slots


def by_day(
    slots: list[Slot], zone: str, open_days: Iterable[date] = ()
) -> list[tuple[str, list[Slot]]]:
    """Slots grouped under their French day label, in order; each of `open_days` that has no
    slot left appears too, empty (a full day says so rather than vanishing)."""
    tz = ZoneInfo(zone)
    grouped: dict[date, list[Slot]] = {day: [] for day in open_days}
    for slot in slots:
        grouped.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    language = current_language()
    return [
        (day_of(datetime.combine(day, time(12), tz), zone, language), grouped[day])
        for day in sorted(grouped)
    ]


def open_days(unit: Unit, first: date, last: date) -> list[date]:
    """The local dates first..last on which the unit opens (its hours, its holidays)."""
    hours, later = weekly_hours(unit), scheduled_hours(unit)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if hours_on(hours, later, unit.department, day)]

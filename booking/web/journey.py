"""The citizen's booking journey: reason → slot → details → confirmation."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from booking import clock
from booking.domain.slots import Slot
from booking.extensions import csrf, limiter
from booking.formatting import day_fr, local, time_fr, when_fr
from booking.metrics import BOOKINGS
from booking.models import Reason, Unit
from booking.security import email_key, keep_private, limit
from booking.services.bookings import (
    BookingError,
    BookingRequest,
    InvalidBooking,
    SlotUnavailable,
    book,
    find_booking,
    parse_start,
)
from booking.services.reasons import ReasonNotFound, get_reason
from booking.services.slots import UnitSlots, first_slots, unit_slots
from booking.services.units import UnitNotFound, UnitSearch, get_unit, search_units
from booking.web.forms import BookingForm

bp = Blueprint("journey", __name__)

DAYS_PER_PAGE = 7
NEARBY_UNITS = 5


@bp.get("/unites/<public_id>/creneaux")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def slots(public_id: str) -> ResponseReturnValue:
    """Offered slots for a reason, a week at a time, grouped by day, as buttons."""
    week = max(0, min(request.args.get("semaine", 0, type=int) or 0, 4))
    found = _slots_or_404(public_id, request.args.get("motif", ""), week)
    nearby = [] if found.slots or week else _nearby_with_slots(found.unit, found.reason)
    return render_template(
        "slots.html",
        unit=found.unit,
        reason=found.reason,
        days=_by_day(found.slots, found.unit.timezone),
        week=week,
        more=week < 4,
        first_day=day_fr(_noon(found.first_day, found.unit.timezone), found.unit.timezone),
        nearby=nearby,
    )


@bp.route("/unites/<public_id>/rendez-vous", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so an expired one keeps what was typed
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking", methods=["POST"])
@limiter.shared_limit(
    lambda: limit("BOOKING_EMAIL"), scope="booking_email", methods=["POST"], key_func=email_key
)
def details(public_id: str) -> ResponseReturnValue:
    """The short form; a lost race keeps what was typed and offers the day's other slots."""
    motif = request.args.get("motif", "")
    form = BookingForm()
    start_text = request.values.get("debut", "")
    try:
        unit = get_unit(public_id)
        start = parse_start(start_text)
    except (UnitNotFound, InvalidBooking):
        abort(404)
    status, errors, alternatives = 200, {}, []
    if form.start.data:  # another slot chosen after a lost race
        try:
            start_text, start = form.start.data, parse_start(form.start.data)
        except InvalidBooking as error:
            return _details_page(unit, motif, form, start_text, start, error.fields, [], 422)
    if request.method == "POST" and form.validate_on_submit():
        if form.website.data:  # the honeypot: answer as if booked, book nothing
            return redirect(url_for("public.index"), code=303)
        try:
            booking, token = book(
                BookingRequest(
                    unit_id=public_id,
                    motif=motif,
                    start=start_text,
                    name=form.name.data or "",
                    email=form.email.data or "",
                    phone=form.phone.data or "",
                    comment=form.comment.data or "",
                )
            )
        except ReasonNotFound:
            abort(404)
        except BookingError as error:
            status = 422 if isinstance(error, InvalidBooking) else 409
            errors = error.fields or {"_": error.message}
            if isinstance(error, SlotUnavailable):
                alternatives = _same_day(public_id, motif, start)
        else:
            BOOKINGS.labels("web").inc()
            return redirect(
                url_for("journey.confirmed", reference=booking.reference, token=token), code=303
            )
    elif request.method == "POST":
        status, errors = 400, {"_": "Le formulaire a expiré : validez-le à nouveau."}
    return _details_page(unit, motif, form, start_text, start, errors, alternatives, status)


def _details_page(
    unit: Unit,
    motif: str,
    form: BookingForm,
    start_text: str,
    start: datetime,
    errors: dict[str, str],
    alternatives: list[tuple[str, str]],
    status: int,
) -> ResponseReturnValue:
    """The details form, with its errors and the other slots of a lost race."""
    try:
        reason = get_reason(motif)
    except ReasonNotFound:
        abort(404)
    return (
        render_template(
            "details.html",
            unit=unit,
            reason=reason,
            form=form,
            start=start_text,
            when=when_fr(start, unit.timezone),
            errors=errors,
            alternatives=alternatives,
        ),
        status,
    )


@bp.get("/rendez-vous/<reference>/confirme")
def confirmed(reference: str) -> ResponseReturnValue:
    """What a citizen sees once booked: the reference and what happens next."""
    token = request.args.get("token", "")
    try:
        booking = find_booking(reference, token)
    except BookingError:
        abort(404)
    response = make_response(
        render_template(
            "confirmed.html",
            booking=booking,
            token=token,
            when=when_fr(booking.starts_at, booking.unit.timezone),
        )
    )
    return keep_private(response)


def _slots_or_404(public_id: str, motif: str, week: int) -> UnitSlots:
    """One week of offered slots, from the unit's today."""
    try:
        first = unit_slots(public_id, motif, now=clock.now())
    except (UnitNotFound, ReasonNotFound):
        abort(404)
    start = first.first_day + timedelta(days=week * DAYS_PER_PAGE)
    end = min(start + timedelta(days=DAYS_PER_PAGE - 1), first.last_day)
    if start > first.last_day:
        return UnitSlots(first.unit, first.reason, start, start, [])
    return UnitSlots(
        first.unit,
        first.reason,
        start,
        end,
        [
            slot
            for slot in first.slots
            if start <= local(slot.start, first.unit.timezone).date() <= end
        ],
    )


def _by_day(slots: list[Slot], zone: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(day label, [(value, time label, accessible label)])]."""
    days: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for slot in slots:
        label = day_fr(slot.start, zone)
        days[label].append(
            (
                local(slot.start, zone).isoformat(),
                time_fr(slot.start, zone),
                when_fr(slot.start, zone),
            )
        )
    return list(days.items())


def _same_day(public_id: str, motif: str, start: datetime) -> list[tuple[str, str]]:
    """Other offered slots of the day of a slot just lost."""
    try:
        unit = get_unit(public_id)
        day = local(start, unit.timezone).date()
        found = unit_slots(public_id, motif, day, day)
    except (UnitNotFound, ReasonNotFound):
        return []
    return [
        (local(slot.start, unit.timezone).isoformat(), time_fr(slot.start, unit.timezone))
        for slot in found.slots
    ]


def _nearby_with_slots(unit: Unit, reason: Reason) -> list[tuple[Unit, str, float | None]]:
    """The nearest units that do have a slot for the reason, when this one has none."""
    if unit.latitude is None or unit.longitude is None:
        return []
    hits, _ = search_units(UnitSearch(near=(unit.latitude, unit.longitude), limit=30))
    others = [hit for hit in hits if hit.unit.id != unit.id]
    firsts = first_slots([hit.unit for hit in others], reason)
    return [
        (hit.unit, when_fr(slot.start, hit.unit.timezone), hit.distance_km)
        for hit in others
        if (slot := firsts[hit.unit.id]) is not None
    ][:NEARBY_UNITS]


def _noon(day: date, zone: str) -> datetime:
    """Midday of a local date, as an aware datetime (to name the day)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone))

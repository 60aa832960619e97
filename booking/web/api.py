"""JSON API `/api/v1`: units, then slots and bookings."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError

from booking import clock
from booking.domain.hours import DAY_KEYS, format_time, osm_opening_hours
from booking.domain.slots import Slot
from booking.errors import ApiError, french_field_errors
from booking.extensions import limiter
from booking.formatting import local
from booking.metrics import BOOKINGS, CANCELLATIONS
from booking.models import Booking, Unit
from booking.security import email_key, limit
from booking.services.bookings import (
    BookingError,
    BookingNotFound,
    BookingRequest,
    InvalidBooking,
    NotChangeable,
    WrongToken,
    book,
    cancel_by_citizen,
)
from booking.services.notifications import manage_url
from booking.services.reasons import ReasonNotFound, get_reason, list_reasons
from booking.services.slots import InvalidPeriod, first_slots, unit_slots
from booking.services.units import (
    UnitHit,
    UnitNotFound,
    UnitSearch,
    get_unit,
    search_units,
    weekly_hours,
)
from booking.web import openapi
from booking.web.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    ErrorBody,
    MotifList,
    SlotParams,
    SlotsOut,
    UnitOut,
    UnitPage,
    UnitSearchParams,
    parse_point,
)
from booking.web.slot_cache import cached_answer

UNIT_NOT_FOUND = ("unit_not_found", "Aucune unité active ne porte cet identifiant.")
MOTIF_NOT_FOUND = ("motif_not_found", "Aucun motif de rendez-vous ne porte ce code.")

bp = Blueprint("api", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)


@bp.get("/motifs")
@openapi.operation("Motifs de rendez-vous", responses={200: MotifList})
def motifs() -> ResponseReturnValue:
    """Every reason for a visit, in display order."""
    return jsonify(
        [
            {
                "code": reason.code,
                "label": reason.label,
                "duration_minutes": reason.duration_minutes,
                "discreet": reason.discreet,
                "documents": reason.documents,
            }
            for reason in list_reasons()
        ]
    )


@bp.get("/units")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
@openapi.operation(
    "Chercher des unités",
    query=UnitSearchParams,
    responses={200: UnitPage, 422: ErrorBody},
)
def units() -> ResponseReturnValue:
    """Units by text, postcode, département, or nearest to a point; their next slot."""
    params = _query(UnitSearchParams)
    try:
        reason = get_reason(params.motif) if params.motif else None
    except ReasonNotFound:
        raise ApiError(
            422, "invalid", "Paramètres invalides.", {"motif": "motif inconnu"}
        ) from None
    hits, total = search_units(
        UnitSearch(
            q=params.q,
            postcode=params.postcode,
            department=params.department,
            near=parse_point(params.near) if params.near else None,
            limit=params.limit,
            offset=params.offset,
        )
    )
    items = [_hit_json(hit) for hit in hits]
    if reason is not None:
        firsts = first_slots([hit.unit for hit in hits], reason)
        for item, hit in zip(items, hits, strict=True):
            item["next_slot"] = slot_json(firsts[hit.unit.id])
    return jsonify({"items": items, "total": total})


@bp.get("/units/<public_id>")
@openapi.operation("Une unité", responses={200: UnitOut, 404: ErrorBody})
def unit(public_id: str) -> ResponseReturnValue:
    """One unit with its opening hours."""
    try:
        found = get_unit(public_id)
    except UnitNotFound:
        raise ApiError(404, *UNIT_NOT_FOUND) from None
    return jsonify(unit_json(found))


@bp.get("/units/<public_id>/slots")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
@openapi.operation(
    "Créneaux offerts d'une unité pour un motif",
    query=SlotParams,
    responses={200: SlotsOut, 404: ErrorBody, 422: ErrorBody},
)
def slots(public_id: str) -> ResponseReturnValue:
    """Offered slots for local dates from..to (default: today .. today + horizon)."""
    params = _query(SlotParams)
    now = clock.now()

    def render() -> bytes:
        try:
            found = unit_slots(public_id, params.motif, *params.days(), now=now)
        except UnitNotFound:
            raise ApiError(404, *UNIT_NOT_FOUND) from None
        except ReasonNotFound:
            raise ApiError(404, *MOTIF_NOT_FOUND) from None
        except InvalidPeriod as error:
            raise ApiError(422, "invalid", "Période invalide.", {error.field: str(error)}) from None
        body = {
            "unit_id": found.unit.public_id,
            "motif": found.reason.code,
            "timezone": found.unit.timezone,
            "slots": [slot_json(slot) for slot in found.slots],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    body = cached_answer(public_id, params.motif, params.days(), now, render)
    return current_app.response_class(body, mimetype="application/json")


@bp.post("/bookings")
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking")
@limiter.shared_limit(lambda: limit("BOOKING_EMAIL"), scope="booking_email", key_func=email_key)
@openapi.operation(
    "Prendre un rendez-vous",
    body=BookingIn,
    responses={201: BookingOut, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody},
)
def create_booking() -> ResponseReturnValue:
    """Book an offered slot; 409 when it was taken meanwhile or the email is at its limit."""
    body = _body(BookingIn)
    try:
        booking, token = book(BookingRequest(**body.model_dump()))
    except UnitNotFound:
        raise ApiError(404, *UNIT_NOT_FOUND) from None
    except ReasonNotFound:
        raise ApiError(404, *MOTIF_NOT_FOUND) from None
    except BookingError as error:
        raise _booking_error(error) from None
    BOOKINGS.labels("api").inc()
    return jsonify(booking_json(booking, token)), 201


@bp.post("/bookings/<reference>/cancel")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
@openapi.operation(
    "Annuler un rendez-vous",
    body=CancelIn,
    responses={200: BookingOut, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody},
)
def cancel_booking(reference: str) -> ResponseReturnValue:
    """Cancel with the secret of the link; the slot is free at once."""
    body = _body(CancelIn)
    try:
        booking = cancel_by_citizen(reference, body.token)
    except BookingError as error:
        raise _booking_error(error) from None
    CANCELLATIONS.labels("citizen").inc()
    return jsonify(booking_json(booking))


def booking_json(booking: Booking, token: str = "") -> dict[str, Any]:
    """A booking with local offsets; the cancel link only for the one who just booked."""
    zone = booking.unit.timezone
    return {
        "reference": booking.reference,
        "status": booking.status,
        "unit_id": booking.unit.public_id,
        "motif": booking.reason_code,
        "start": local(booking.starts_at, zone).isoformat(),
        "end": local(booking.ends_at, zone).isoformat(),
        "cancel_url": manage_url(booking, token) if token else None,
    }


def _booking_error(error: BookingError) -> ApiError:
    """The HTTP answer of a booking refusal."""
    status = {
        InvalidBooking: 422,
        BookingNotFound: 404,
        WrongToken: 403,
        NotChangeable: 409,
    }.get(type(error), 409)
    return ApiError(status, error.code, error.message, error.fields or None)


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi.build_document(current_app, bp.name))


def unit_json(unit: Unit) -> dict[str, Any]:
    """A unit as SPEC §5 shows it."""
    hours = weekly_hours(unit)
    return {
        "id": unit.public_id,
        "name": unit.name,
        "address": unit.address,
        "postcode": unit.postcode,
        "commune": unit.commune,
        "department": unit.department,
        "insee": unit.insee,
        "lat": unit.latitude,
        "lon": unit.longitude,
        "phone": unit.phone,
        "email": unit.email,
        "url": unit.url,
        "timezone": unit.timezone,
        "desks": unit.desks,
        "opening_hours": osm_opening_hours(hours),
        "hours": {
            key: [[format_time(start), format_time(end)] for start, end in hours.get(day, [])]
            for day, key in enumerate(DAY_KEYS)
        },
    }


def _hit_json(hit: UnitHit) -> dict[str, Any]:
    """A search result: the unit, and its distance for a `near` search."""
    return {**unit_json(hit.unit), "distance_km": hit.distance_km, "next_slot": None}


def slot_json(slot: Slot | None) -> dict[str, Any] | None:
    """A slot with local offsets."""
    if slot is None:
        return None
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "available": slot.available,
    }


def _body(model: type[M]) -> M:
    """The JSON body validated by `model`, or a 422 naming each bad field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "Corps JSON (objet) attendu, en UTF-8.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiError(
            422, "invalid", "Certains champs sont à corriger.", french_field_errors(error)
        ) from None


def _query(model: type[M]) -> M:
    """The query string validated by `model`, or a 422 naming each bad parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise ApiError(
            422, "invalid", "Paramètres invalides.", french_field_errors(error)
        ) from None

"""JSON API `/api/v1`: units, then slots and bookings."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError

from booking import clock
from booking.domain.slots import Slot
from booking.domain.words import N_, Text
from booking.errors import (
    DatesUnavailable,
    Invalid,
    ModeUnavailable,
    ReasonNotFound,
    ServiceError,
    UnitNotFound,
)
from booking.extensions import limiter
from booking.metrics import BOOKINGS, CANCELLATIONS
from booking.models import ApiKey, Reason
from booking.services import challenge
from booking.services.bookings.change import cancel_by_citizen
from booking.services.bookings.make import BookingDetails, book
from booking.services.bookings.once import Once, summary, will_replay
from booking.services.bookings.predeclarations import form_of
from booking.services.messages.notifications import manage_url
from booking.services.places.gazetteer import suggest_places
from booking.services.places.search import UnitQuery, filter_units, find_units
from booking.services.reasons import get_reason, list_reasons
from booking.services.slots.cache import cached_answer
from booking.services.slots.offered import answer_slots
from booking.services.staff.api_keys import partner_of
from booking.services.units.reading import UnitSearch, get_unit
from booking.services.waitlist.entries import leave_token
from booking.services.waitlist.join import WaitRequest, join
from booking.urls import external_url
from booking.web import admission, openapi
from booking.web.answers import (
    answer,
    found_answer,
    motif_answer,
    place_answer,
    unit_answer,
)
from booking.web.errors import invalid
from booking.web.languages import current_language, say
from booking.web.motif_schemas import MotifList
from booking.web.place_schemas import PlaceList
from booking.web.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    ChallengeOut,
    ErrorBody,
    PlaceParams,
    SlotParams,
    SlotsOut,
    UnitOut,
    UnitPage,
    UnitSearchParams,
    parse_point,
)
from booking.web.security import email_key, limit
from booking.web.waitlist_schemas import PARTS, WaitlistIn, WaitlistOut

bp = Blueprint("api", __name__, url_prefix="/api/v1")
IDEMPOTENCY_PATTERN = "^[\x21-\x7e]{1,100}$"  # printable ASCII, no space
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_PATTERN)
M = TypeVar("M", bound=BaseModel)
WAITLIST_NAME = "Liste d'attente"  # the name of an entry whose partner gave none


@bp.get("/motifs")
@openapi.operation("Motifs de rendez-vous", responses={200: MotifList})
def motifs() -> ResponseReturnValue:
    """Every reason for a visit, in display order."""
    reasons = [motif_answer(reason, form_of(reason)) for reason in list_reasons()]
    return answer(MotifList(reasons))


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
    reason = _reason_asked(params.motif)
    if params.q and not (params.near or params.postcode or params.department):
        query = UnitQuery(params.q, limit=params.limit, offset=params.offset)
        finding = find_units(query, reason, mode=params.mode)
    else:
        near = parse_point(params.near) if params.near else None
        search = UnitSearch(params.q, params.postcode, params.department, near)
        page = replace(search, limit=params.limit, offset=params.offset)
        finding = filter_units(page, reason, mode=params.mode)
    results, place = finding.results, finding.place
    return answer(
        UnitPage(
            items=[found_answer(item) for item in results.items],
            total=results.total,
            place=place_answer(place) if place else None,
            places=[place_answer(choice) for choice in finding.choices],
            note=say(finding.note) or None,
            police_territory=finding.police,
        )
    )


@bp.get("/places")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
@openapi.operation(
    "Suggestions de lieux (communes, codes postaux)",
    query=PlaceParams,
    responses={200: PlaceList, 422: ErrorBody},
)
def places() -> ResponseReturnValue:
    """The places a citizen may mean by what they typed, best first."""
    params = _query(PlaceParams)
    found = suggest_places(params.q, params.limit)
    return answer(PlaceList(items=[place_answer(place) for place in found]))


def _reason_asked(code: str | None) -> Reason | None:
    """The reason whose next slots are asked for; an unknown one is a wrong parameter."""
    try:
        return get_reason(code) if code is not None else None
    except ReasonNotFound:
        raise Invalid(N_("Paramètres invalides."), {"motif": N_("motif inconnu")}) from None


@bp.get("/units/<public_id>")
@openapi.operation("Une unité", responses={200: UnitOut, 404: ErrorBody})
def unit(public_id: str) -> ResponseReturnValue:
    """One unit with its opening hours."""
    return answer(unit_answer(get_unit(public_id)))


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
    days = params.days()

    def render() -> tuple[int, tuple[Any, ...], bytes]:
        # One statement, plain rows.
        found = answer_slots(public_id, params.motif, days, now, params.mode)
        rendered = slots_document(
            public_id, found.reason.code, found.timezone, found.slots, params.mode
        )
        return found.unit_id, found.version, rendered

    body = cached_answer(public_id, params.motif, days, now, render, params.mode)
    return current_app.response_class(body, mimetype="application/json")


@bp.post("/bookings")
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking")
@limiter.shared_limit(lambda: limit("BOOKING_EMAIL"), scope="booking_email", key_func=email_key)
@openapi.operation(
    "Prendre un rendez-vous",
    body=BookingIn,
    responses={201: BookingOut, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody},
    headers={
        "Idempotency-Key": (
            IDEMPOTENCY_PATTERN,
            "Renvoyée dans les 24 h avec le même corps, la demande reçoit sa première "
            "réponse et ne réserve rien de plus ; avec un autre corps, 422.",
        )
    },
)
def create_booking() -> ResponseReturnValue:
    """Book an offered slot; 409 when it was taken meanwhile. Without a partner's API key, a
    solved challenge may be asked (BOOKING_CHALLENGE), and the booking is a hold its
    citizen confirms from the email (BOOKING_EMAIL_VERIFICATION), whose limit per address
    is told by email only; a partner's booking is confirmed at once, or 409 at the limit."""
    body = _body(BookingIn)
    partner = partner_of(request.headers.get("Authorization", ""))
    once = _idempotency(body, partner)
    ticket = 0
    if partner is None and not will_replay(once):
        challenge.check_form({challenge.FIELD: body.altcha or ""})
        ticket = admission.booking_allowed()
    unit, reason = get_unit(body.unit_id), get_reason(body.motif)
    details = BookingDetails(
        body.start,
        body.name,
        body.email,
        body.phone,
        body.comment,
        body.declaration,
        discreet=body.discreet,
        mode=body.mode,
        language=current_language(),
    )
    booked = book(unit, reason, details, once=once, trusted=partner is not None)
    admission.booked(ticket)
    if not booked.replayed:
        BOOKINGS.labels("api").inc()
    url = manage_url(booked.booking, booked.token)
    return answer(BookingOut(**booked.answer, cancel_url=url), 201)


def _idempotency(body: BookingIn, partner: ApiKey | None) -> Once | None:
    """The request's Idempotency-Key, if it sends one (printable ASCII, 100 at most)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise Invalid(
            N_("Clé d'idempotence invalide."),
            {"Idempotency-Key": N_("1 à 100 caractères ASCII visibles")},
        )
    return Once.of_api(key, body.model_dump(exclude={"altcha"}), _client(partner))


def _client(partner: ApiKey | None) -> str:
    """Whose Idempotency-Keys a request's is among: the partner's API key, else the network
    address the request came from (behind TRUSTED_PROXIES, the client's)."""
    return f"partner:{partner.id}" if partner is not None else f"address:{get_remote_address()}"


@bp.post("/waitlist")
@limiter.shared_limit(lambda: limit("BOOKING"), scope="booking")
@limiter.shared_limit(lambda: limit("BOOKING_EMAIL"), scope="booking_email", key_func=email_key)
@openapi.operation(
    "S'inscrire sur la liste d'attente",
    body=WaitlistIn,
    responses={201: WaitlistOut, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody},
)
def join_waitlist() -> ResponseReturnValue:
    """Be offered by email a slot that frees at one of some units between two days. Without
    a partner's API key, a solved challenge may be asked, and the person confirms from the
    email first; the answer is the same whatever the address (SPEC §5). 409 `slots_free`:
    slots that suit are free now, book one."""
    body = _body(WaitlistIn)
    partner = partner_of(request.headers.get("Authorization", ""))
    if partner is None:
        challenge.check_form({challenge.FIELD: body.altcha or ""})
    since, until = body.days()
    asked = WaitRequest(
        name=body.name or WAITLIST_NAME,
        email=body.email,
        units=body.unit_ids,
        weekdays=frozenset(range(7)),
        parts=frozenset(PARTS[part] for part in body.parts),
        until=until,
        since=since,
        mode=body.mode,
        phone=body.phone,
        language=current_language(),
    )
    try:
        joined = join(get_reason(body.motif), asked, trusted=partner is not None)
    except Invalid as error:
        raise _business(error) from None
    token = leave_token(joined.reference)
    url = external_url("waitlist.show", reference=joined.reference, token=token)
    out = {"id": joined.reference, "status": joined.status, "leave_url": url}
    return answer(WaitlistOut.model_validate(out), 201)


def _business(error: Invalid) -> ServiceError:
    """A waiting-list refusal as the API says it: what the document cannot rule out (units
    that do not exist, days already past or too far, a mode the reason or the units do not
    offer) is a business answer, 404 or 409; the rest stays a 422."""
    fields = error.fields
    if not fields or not set(fields) <= set(BUSINESS_FIELDS):
        return error
    named = {BUSINESS_FIELDS[name]: text for name, text in fields.items()}
    message = _one_after_another(list(fields.values()))
    if "units" in fields:
        return UnitNotFound(message, named)
    if "mode" in fields and len(fields) == 1:
        return ModeUnavailable(message, named)
    return DatesUnavailable(message, named)


def _one_after_another(texts: list[str]) -> str:
    """Texts joined by a space, as a `Text` whose parts are each said in the answer's
    language (the same French as `" ".join(texts)`)."""
    parts = {f"part{n}": text for n, text in enumerate(texts)}
    template = " ".join(f"%({name})s" for name in parts)  # no text of its own to translate
    return Text(template, **parts)


# The waiting list's fields whose refusal is a business answer, named as the API names them.
BUSINESS_FIELDS = {"units": "unit_ids", "since": "from", "until": "to", "mode": "mode"}


@bp.post("/bookings/<reference>/cancel")
@limiter.shared_limit(lambda: limit("CANCEL"), scope="cancel")
@openapi.operation(
    "Annuler un rendez-vous",
    body=CancelIn,
    responses={200: BookingOut, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody},
)
def cancel_booking(reference: str) -> ResponseReturnValue:
    """Cancel with the secret of the link; the slot is free at once."""
    booking = cancel_by_citizen(reference, _body(CancelIn).token)
    CANCELLATIONS.labels("citizen").inc()
    return answer(BookingOut(**summary(booking)))


@bp.get("/challenge", endpoint="challenge")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
@openapi.operation("Défi de preuve de travail (ALTCHA)", responses={200: ChallengeOut})
def challenge_endpoint() -> ResponseReturnValue:
    """A new challenge; its solution goes in `altcha` when a booking asks for one."""
    response, _ = answer(ChallengeOut(**challenge.issue()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API (the reasons' codes as they stand now)."""
    codes = [reason.code for reason in list_reasons()]
    return jsonify(openapi.build_document(current_app, bp.name, enums={"motif": codes}))


def slots_document(
    unit_id: str, motif: str, timezone: str, slots: list[Slot], mode: str = "on_site"
) -> bytes:
    """The slots answer (SlotsOut) as compact JSON, written directly: the one answer not
    built through its schema, because a cold answer spent a tenth of its time building
    and encoding one object a slot. It is the bytes `json.dumps(…, ensure_ascii=False,
    separators=(",", ":"))` writes, and SlotsOut reads it back (tests/test_slots_document.py).
    ISO 8601 instants and counts hold nothing JSON escapes; the three strings go through
    the json module's own escaping."""
    items = ",".join(
        [
            f'{{"start":"{slot.start.isoformat()}","end":"{slot.end.isoformat()}",'
            f'"available":{int(slot.available)}}}'
            for slot in slots
        ]
    )
    head = (
        f'{{"unit_id":{_string(unit_id)},"motif":{_string(motif)},"mode":{_string(mode)},'
        f'"timezone":{_string(timezone)}'
    )
    return f'{head},"slots":[{items}]}}'.encode()


_string = json.encoder.encode_basestring  # quoted and escaped


def _body(model: type[M]) -> M:
    """The JSON body validated by `model`, or a 422 naming each bad field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid(N_("Corps JSON (objet) attendu, en UTF-8."))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(error) from None


def _query(model: type[M]) -> M:
    """The query string validated by `model`, or a 422 naming each bad parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise invalid(error, N_("Paramètres invalides.")) from None

"""The waiting room at the door of the booking form (SPEC §16).

A citizen who opens the booking form gets a ticket: a cookie signed with a key of its own
(booking.keys), holding the ticket's number, when it was handed out, when it was admitted,
and a binding to the browser (a keyed hash of its User-Agent and of its network, the /24 of
an IPv4 address or the /48 of an IPv6 one): a forged ticket, or one copied into another
browser or carried to another network, counts as no ticket. When the ticket is admitted the
form opens; until then a light page says the position and an estimate, and reloads itself
(meta refresh without JavaScript; with it, a small poll of `/file-d-attente`).

A booking sent with an admitted ticket is never sent back to the line: the ticket stays
good for one booking during ADMISSION_JOURNEY_SECONDS. A booking sent without one (a bot, a
script, an anonymous API client) is refused with 429 while anyone waits or the room is
full, and passes otherwise (the rate limits and the challenge still apply). Partners with an
API key never queue. When the shared store cannot be reached, the door stays open (logged):
the database's own rules still refuse any overbooking.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
from typing import Any, Final

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse
from redis.exceptions import RedisError

from booking import clock
from booking.errors import QueueFirst
from booking.extensions import limiter
from booking.keys import purpose_key
from booking.metrics import ADMITTED, QUEUE_LENGTH, QUEUE_WAIT
from booking.services.admission import Place, Rules, Store, store_for
from booking.web import pressure
from booking.web.security import keep_private

COOKIE: Final = "rdv_file"
_EXTENSION: Final = "admission"
log = logging.getLogger("booking.admission")

bp = Blueprint("admission", __name__)


def init_app(app: Flask) -> None:
    """The line of this configuration (none when the waiting room is off)."""
    store = store_for(app.config)
    if store is not None:
        app.extensions[_EXTENSION] = store


def _store() -> Store | None:
    found: Store | None = current_app.extensions.get(_EXTENSION)
    return found


def _binding() -> str:
    """A keyed hash of the browser and its network (never stored, never shown)."""
    address = get_remote_address() or ""
    try:
        parsed = ipaddress.ip_address(address)
        prefix = 24 if parsed.version == 4 else 48
        network = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    except ValueError:
        network = address
    agent = request.headers.get("User-Agent", "")
    digest = hmac.new(purpose_key("admission"), f"{agent}\n{network}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(purpose_key("admission"), salt="ticket")


def _ticket() -> dict[str, Any] | None:
    """The request's ticket, if it is ours, for this browser and still in its time."""
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 300:
        return None
    try:
        ticket = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(ticket, dict) or ticket.get("b") != _binding():
        return None
    admitted = float(ticket.get("a") or 0)
    journey = current_app.config["ADMISSION_JOURNEY_SECONDS"]
    if admitted and clock.now().timestamp() - admitted > journey:
        return None  # this journey's time is over: a new ticket, at the end of the line
    return ticket


def _rules() -> Rules:
    config = current_app.config
    slow = config["ADMISSION"] == "auto" and (
        pressure.recent_p90() * 1000 > config["ADMISSION_LATENCY_MS"]
    )
    return Rules(
        config["ADMISSION_CAPACITY"],
        config["ADMISSION_CLAIM_SECONDS"],
        config["ADMISSION_IDLE_SECONDS"],
        slow,
        config["ADMISSION_SLOW_PER_SECOND"],
    )


def _advance(store: Store, take: bool, number: int) -> Place:
    place = store.advance(clock.now().timestamp(), _rules(), take, number)
    QUEUE_LENGTH.labels(current_app.config["ADMISSION"]).set(place.waiting)
    return place


def _place_for_visitor(store: Store) -> tuple[Place, dict[str, Any]]:
    """The visitor's place in line, a ticket taken if they have none (or a spent one)."""
    ticket = _ticket()
    if ticket is not None:
        place = _advance(store, False, int(ticket["n"]))
        lapsed = place.admitted and not ticket.get("a") and not place.holding
        if not place.spent and not lapsed:
            return place, ticket
    place = _advance(store, True, 0)
    now = clock.now().timestamp()
    return place, {"n": place.ticket, "t": now, "a": 0, "b": _binding()}


def _keep(response: Response, ticket: dict[str, Any]) -> Response:
    response.set_cookie(
        COOKIE,
        _serializer().dumps(ticket),
        max_age=current_app.config["ADMISSION_JOURNEY_SECONDS"],
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def _admit(ticket: dict[str, Any]) -> None:
    """Note the admission in the ticket (its journey's time starts), once."""
    if not ticket.get("a"):
        now = clock.now().timestamp()
        ticket["a"] = now
        mode = current_app.config["ADMISSION"]
        ADMITTED.labels(mode).inc()
        QUEUE_WAIT.labels(mode).observe(max(0.0, now - float(ticket.get("t") or now)))


def at_the_door() -> tuple[Response | None, dict[str, Any] | None]:
    """Before the booking form: (the waiting page, None) while the ticket waits, else
    (None, the ticket to keep on the form's answer; None when the room is off)."""
    store = _store()
    if store is None:
        return None, None
    try:
        place, ticket = _place_for_visitor(store)
    except RedisError:
        log.warning("waiting room: the shared store cannot be reached, the door stays open")
        return None, None
    if place.admitted:
        _admit(ticket)
        return None, ticket
    return _keep(_waiting_page(place), ticket), None


def keep_ticket(response: Response, ticket: dict[str, Any] | None) -> Response:
    """Set the (admitted) ticket on the form's answer."""
    return _keep(response, ticket) if ticket is not None else response


def _estimate(place: Place) -> int | None:
    """Minutes before admission, from the pace of the last whole minute (None: unknown)."""
    if place.per_minute <= 0:
        return None
    return max(1, math.ceil((place.ahead + 1) / place.per_minute))


def _refresh_seconds(place: Place) -> int:
    """Reload soon when near the door, seldom when far: the page costs one store call."""
    return 5 if place.ahead < 100 else 15 if place.ahead < 2000 else 30


def _waiting_page(place: Place) -> Response:
    seconds = _refresh_seconds(place)
    page = render_template(
        "waiting.html",
        position=place.ahead + 1,
        minutes=_estimate(place),
        refresh=seconds,
        waiting=place.waiting,
        claim_minutes=max(1, current_app.config["ADMISSION_CLAIM_SECONDS"] // 60),
    )
    response = keep_private(make_response(page, 200))
    response.headers["Retry-After"] = str(seconds)
    return response


def booking_allowed() -> int:
    """Before a booking is made: the admitted ticket it uses (0 when the room is off, or
    idle and the request has none); QueueFirst (429) when it must go through the line."""
    store = _store()
    if store is None:
        return 0
    ticket = _ticket()
    try:
        if ticket is not None and ticket.get("a"):
            place = _advance(store, False, int(ticket["n"]))
            if not place.spent:
                return int(ticket["n"])
        else:
            place = _advance(store, False, 0)
    except RedisError:
        log.warning("waiting room: the shared store cannot be reached, the door stays open")
        return 0
    busy = place.waiting > 0 or place.active >= current_app.config["ADMISSION_CAPACITY"]
    if busy or not _within_ticketless_quota():
        raise QueueFirst()
    return 0


def _within_ticketless_quota() -> bool:
    """Bookings without a ticket (scripts, anonymous API clients) are counted per address
    against ADMISSION_TICKETLESS (the rate limits' store, shared by the nodes)."""
    if not limiter.enabled:
        return True
    quota = parse(current_app.config["ADMISSION_TICKETLESS"])
    return bool(limiter.limiter.hit(quota, "ticketless", get_remote_address() or ""))


def booked(number: int) -> None:
    """A booking was made with this ticket: its place frees for the next in line, and it
    books nothing more."""
    store = _store()
    if store is None or not number:
        return
    try:
        store.spend(number)
    except RedisError:
        log.warning("waiting room: the shared store cannot be reached to free a place")


@bp.get("/file-d-attente")
def status() -> ResponseReturnValue:
    """The waiting page's poll: admitted yet, position, estimate (nothing is taken here)."""
    store = _store()
    ticket = _ticket()
    if store is None or ticket is None:
        return keep_private(jsonify(admitted=True))
    try:
        place = _advance(store, False, int(ticket["n"]))
    except RedisError:
        return keep_private(jsonify(admitted=True))
    return keep_private(
        jsonify(
            admitted=place.admitted,
            position=place.ahead + 1,
            minutes=_estimate(place),
            refresh=_refresh_seconds(place),
        )
    )

"""The orienteur's pages: one question per page (links, so it works without JavaScript and
with the back button), then the outcome: numbers to call, an online service of the State,
or the unit search with the reason chosen."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from booking.errors import ReasonNotFound
from booking.extensions import db, limiter
from booking.metrics import ORIENTATION
from booking.services import orientation
from booking.services.bookings.predeclarations import form_of
from booking.services.reasons import get_reason
from booking.web.discretion import remember_sensitive
from booking.web.security import limit

bp = Blueprint("orientation", __name__, url_prefix="/orientation")
log = logging.getLogger(__name__)


def _emergency() -> bool:
    """Whether the outcome asked for is an emergency: never refused for too many requests."""
    found = orientation.tree().outcomes.get((request.view_args or {}).get("name", ""))
    return bool(found and found.kind == "emergency")


@bp.get("/")
@bp.get("/<name>")
def question(name: str | None = None) -> ResponseReturnValue:
    """A question and its answers, each a link to the next step."""
    tree = orientation.tree()
    name = name or tree.start
    asked = tree.questions.get(name)
    if asked is None:
        abort(404)
    parent = tree.parent(name)
    remember_sensitive(asked.sensitive)
    # Choices that lead into a sensitive page replace this page in the history as they go.
    sensitive = {
        target
        for choice in asked.choices
        for target in (choice.next, choice.outcome)
        if target and tree.is_sensitive(target)
    }
    return render_template(
        "orientation/question.html",
        name=name,
        question=asked,
        step=tree.depth(name),
        parent=parent,
        quick_exit=asked.sensitive,
        sensitive_targets=sensitive,
        private_browsing=name == tree.start or bool(sensitive) or asked.sensitive,
        replace_links=True,
    )


@bp.get("/issue/<name>")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search", exempt_when=lambda: _emergency())
def outcome(name: str) -> ResponseReturnValue:
    """Where the answers lead; counted (the outcome only)."""
    tree = orientation.tree()
    found = tree.outcomes.get(name)
    if found is None:
        abort(404)
    came_from = request.args.get("depuis", "")
    back = came_from if tree.leads_to(came_from, name) else None
    try:
        reason = get_reason(found.reason) if found.reason else None
    except ReasonNotFound:  # a reason withdrawn since: the search, with every reason
        reason = None
    remember_sensitive(found.sensitive)
    try:
        orientation.count_outcome(name)
    except SQLAlchemyError:  # a count lost: the answer (an emergency number…) still shows
        db.session.rollback()
        log.warning("orientation outcome %s not counted: database unavailable", name)
    ORIENTATION.labels(name).inc()
    return render_template(
        "orientation/outcome.html",
        name=name,
        outcome=found,
        back=back,
        chosen=reason,
        predeclaration=form_of(reason) if reason else None,
        quick_exit=found.sensitive,
        replace_links=True,
    )

"""How a write that the database's rules may refuse is made: the refusal is a lost race,
answered 409 with what happened, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from booking.db_rules import CLOSED, OVERBOOKING, refusal
from booking.domain.words import N_
from booking.errors import SlotUnavailable
from booking.extensions import db

T = TypeVar("T")
REFUSALS = {
    OVERBOOKING: N_("Ce créneau vient d'être pris : choisissez-en un autre."),
    CLOSED: N_("L'unité vient de fermer à ce moment-là : choisissez un autre créneau."),
}


def or_unavailable(write: Callable[[], T]) -> T:
    """Run a write; the database's refusal becomes SlotUnavailable (a 409), not a 500."""
    try:
        return write()
    except DBAPIError as error:
        db.session.rollback()
        rule = refusal(error)
        if rule:
            raise SlotUnavailable(REFUSALS[rule]) from error
        raise


def flush_or_unavailable() -> None:
    """Write now, so that the database's rules speak before anything else is done."""
    or_unavailable(db.session.flush)


def commit_or_unavailable() -> None:
    """Commit; a late refusal by the database's rules is a lost race, not an error."""
    or_unavailable(db.session.commit)

"""Readiness: what a load balancer asks before sending traffic to a node."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.models import RunnerHeartbeat


def readiness() -> dict[str, str]:
    """Whether *this node* can serve: `ok` when it reaches the database.

    The job runner's state is reported too, for people, but does not make a node unready:
    every node would leave the load balancer at once for a runner that is elsewhere (its
    health is a metric with an alert, see docs/deploy.md).
    """
    try:
        db.session.execute(text("SELECT 1"))
        beat = db.session.scalar(select(RunnerHeartbeat).where(RunnerHeartbeat.name == "jobs"))
    except SQLAlchemyError:
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        return {"status": "unavailable", "database": "injoignable", "jobs": "inconnu"}
    return {"status": "ok", "database": "ok", "jobs": runner_state(beat)}


def runner_state(beat: RunnerHeartbeat | None) -> str:
    """`ok`, `jamais vu` or `silencieux depuis …`: three missed beats mean the runner is gone."""
    patience = timedelta(seconds=max(30.0, 3 * current_app.config["JOBS_POLL_SECONDS"]))
    if beat is None:
        return "jamais vu"
    if clock.now() - beat.seen_at > patience:
        return f"silencieux depuis {beat.seen_at.isoformat()}"
    return "ok"


def heartbeat(holder: str, now: datetime | None = None) -> None:
    """Say that the active runner is alive (read by /readyz)."""
    now = now or clock.now()
    begin_write()
    beat = db.session.get(RunnerHeartbeat, "jobs") or RunnerHeartbeat(name="jobs")
    beat.holder, beat.seen_at = holder, now
    db.session.add(beat)
    db.session.commit()

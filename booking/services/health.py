"""Readiness: what a load balancer asks before sending traffic to a node."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from booking import clock
from booking.database import begin_write
from booking.extensions import db
from booking.models import RunnerHeartbeat


def readiness() -> dict[str, str]:
    """`ok` when the database answers and the job runner's heartbeat is recent."""
    try:
        db.session.execute(text("SELECT 1"))
        beat = db.session.scalar(select(RunnerHeartbeat).where(RunnerHeartbeat.name == "jobs"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "injoignable", "jobs": "inconnu"}
    # Three missed beats mean the runner is gone (or none was ever started).
    patience = timedelta(seconds=max(30.0, 3 * current_app.config["JOBS_POLL_SECONDS"]))
    if beat is None:
        jobs = "jamais vu"
    elif clock.now() - beat.seen_at > patience:
        jobs = f"silencieux depuis {beat.seen_at.isoformat()}"
    else:
        jobs = "ok"
    status = "ok" if jobs == "ok" else "degraded"
    return {"status": status, "database": "ok", "jobs": jobs}


def heartbeat(holder: str, now: datetime | None = None) -> None:
    """Say that the active runner is alive (read by /readyz)."""
    now = now or clock.now()
    begin_write()
    beat = db.session.get(RunnerHeartbeat, "jobs") or RunnerHeartbeat(name="jobs")
    beat.holder, beat.seen_at = holder, now
    db.session.add(beat)
    db.session.commit()

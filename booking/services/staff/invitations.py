"""Invitation links (SPEC §12): an agent (or an administrator, for an operator service)
makes a link for a unit, a reason and a mode; whoever opens it picks a slot among those,
skipping the orienteur, and books once. Valid INVITATION_HOURS, revocable, audited.

Only the secret's hash is kept. The one booking is enforced in the booking's own write
transaction (`spend`): a conditional update that sets the invitation's booking, which a
second booking through the same link, even at the same instant, finds already set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from booking import clock
from booking.database import begin_write
from booking.errors import Conflict, Invalid, NotFound
from booking.extensions import db
from booking.models import Booking, Invitation, Reason, StaffUser, Unit
from booking.services.slots.offered import MODE_NAMES, offered_modes
from booking.services.staff import audit
from booking.tokens import hash_token, new_secret

INVITATION_HOURS = 72
LISTED_DAYS = 7  # spent or expired links stay listed this long


class InvitationGone(Conflict):
    """A link that has served, expired or was withdrawn."""

    status, code = 410, "invitation_gone"


@dataclass(frozen=True)
class Opened:
    """A valid invitation and what it chose."""

    invitation: Invitation
    unit: Unit
    reason: Reason


def create(actor: StaffUser, unit: Unit, reason: Reason, mode: str) -> tuple[Invitation, str]:
    """A new link for the unit (which the caller checked the actor may reach), the reason
    and a mode the unit offers for it; its secret, shown once."""
    if mode not in offered_modes(unit, reason):
        raise Invalid(
            "Cette unité ne reçoit pas ce motif de cette façon.",
            {"mode": f"Ce motif n'est pas proposé {MODE_NAMES.get(mode, mode)} ici."},
        )
    now = clock.now()
    token = new_secret()
    begin_write()
    invitation = Invitation(
        token_hash=hash_token(token),
        unit_id=unit.id,
        reason_code=reason.code,
        mode=mode,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(hours=INVITATION_HOURS),
    )
    db.session.add(invitation)
    db.session.flush()
    after = {"motif": reason.code, "mode": mode, "expire": invitation.expires_at.isoformat()}
    audit.record(actor, "lien d'invitation créé", unit, f"invitation {invitation.id}", None, after)
    db.session.commit()
    return invitation, token


def listed(unit: Unit, now: datetime | None = None) -> list[Invitation]:
    """The unit's links of the last days, newest first."""
    since = (now or clock.now()) - timedelta(days=LISTED_DAYS)
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.unit_id == unit.id, Invitation.created_at >= since)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def revoke(actor: StaffUser, unit: Unit, invitation_id: int) -> Invitation:
    """Withdraw a link of this unit (one that served stays as it is)."""
    begin_write()
    invitation: Invitation | None = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.unit_id == unit.id)
    )
    if invitation is None:
        db.session.rollback()
        raise NotFound("Aucun lien d'invitation de cette unité ne porte ce numéro.")
    if invitation.revoked_at is None and invitation.booking_id is None:
        invitation.revoked_at = clock.now()
        audit.record(actor, "lien d'invitation retiré", unit, f"invitation {invitation.id}")
    db.session.commit()
    return invitation


def state(invitation: Invitation, now: datetime) -> str:
    """`active`, `used`, `revoked` or `expired`."""
    if invitation.booking_id is not None or invitation.used_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    return "active" if invitation.expires_at > now else "expired"


GONE = {
    "used": "Ce lien d'invitation a déjà servi à prendre un rendez-vous.",
    "revoked": "Ce lien d'invitation a été retiré par l'unité.",
    "expired": "Ce lien d'invitation a expiré (il vaut 72 heures).",
}


def open_link(token: str, now: datetime | None = None) -> Opened:
    """The invitation of a link, if it can still book; NotFound for an unknown secret,
    InvitationGone (said in French) for one that served, expired or was withdrawn."""
    now = now or clock.now()
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token or "-"))
    )
    if invitation is None:
        raise NotFound("Ce lien d'invitation n'existe pas : vérifiez qu'il est complet.")
    found = state(invitation, now)
    if found != "active":
        raise InvitationGone(GONE[found])
    unit, reason = (
        db.session.get(Unit, invitation.unit_id),
        db.session.get(Reason, invitation.reason_code),
    )
    if unit is None or not unit.active or reason is None or not reason.active:
        raise InvitationGone("Cette unité ne prend plus ce rendez-vous en ligne : appelez-la.")
    return Opened(invitation, unit, reason)


def spend(invitation_id: int, now: datetime) -> Callable[[Booking], None]:
    """What the booking's write transaction does with the link: mark it spent by this
    booking, if it still can book (else InvitationGone, and the booking is undone)."""

    def within(booking: Booking) -> None:
        spent = db.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id,
                Invitation.booking_id.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(booking_id=booking.id, used_at=now)
        )
        if getattr(spent, "rowcount", 0):
            after = {"rendez-vous": booking.reference}
            target = f"invitation {invitation_id}"
            audit.record(
                None,
                "lien d'invitation utilisé",
                booking.unit,
                target,
                None,
                after,
                who="lien d'invitation",
            )
            return
        raise InvitationGone(
            "Ce lien d'invitation ne permet plus de réserver : il a servi, expiré ou été retiré."
        )

    return within

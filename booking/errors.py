"""Errors as the service's users meet them: one base with a stable code, a French message,
the fields at fault and the HTTP status that says it.

Services raise these; the web layer turns any of them into a JSON error under /api or a
French page elsewhere (`booking.web.errors`), and an HTML view that must keep the page
(a form with what was typed) catches `ServiceError` only. Pure: no framework import, so
that the command line and the job runner use the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from booking.domain.words import N_


class ServiceError(Exception):
    """Something a user asked that cannot be done, said in French."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    default_message: ClassVar[str] = N_("Requête incorrecte.")

    def __init__(self, message: str = "", fields: Mapping[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.fields = dict(fields or {})
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """`{"error", "message", "fields"?}`, the API's error shape (SPEC §5)."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class Invalid(ServiceError):
    """Some values are wrong; `fields` says which and why."""

    status, code = 422, "invalid"
    default_message = N_("Certains champs sont à corriger.")


class NotFound(ServiceError):
    """Nothing answers to this name."""

    status, code = 404, "not_found"
    default_message = N_("Cette adresse ne correspond à aucune page.")


class UnitNotFound(NotFound):
    """No active unit has this identifier."""

    code = "unit_not_found"
    default_message = N_("Aucune unité active ne porte cet identifiant.")


class ReasonNotFound(NotFound):
    """No active reason has this code."""

    code = "motif_not_found"
    default_message = N_("Aucun motif de rendez-vous ne porte ce code.")


class BookingNotFound(NotFound):
    """No booking of this unit has this reference (staff side)."""

    code = "booking_not_found"
    default_message = N_("Aucun rendez-vous ne porte cette référence.")


class NoAccess(NotFound):
    """A unit this staff member may not see: it looks exactly like one that does not exist."""

    code = "not_found"


class Forbidden(ServiceError):
    """The secret given does not open this."""

    status, code = 403, "forbidden"
    default_message = N_("Accès refusé.")


class WrongLink(Forbidden):
    """A booking link whose reference or secret does not match."""

    default_message = N_("Ce lien n'est pas valable pour ce rendez-vous.")


class Conflict(ServiceError):
    """The request is well formed but the state of things refuses it."""

    status, code = 409, "conflict"


class SlotUnavailable(Conflict):
    """The slot is not (or no longer) offered."""

    code = "slot_unavailable"
    default_message = N_("Ce créneau n'est plus disponible : choisissez-en un autre.")


class ModeUnavailable(Conflict):
    """The reason is not held in this mode (SPEC §12), or not at these units."""

    code = "mode_unavailable"


class DatesUnavailable(Conflict):
    """The days asked cannot be waited for (past, or beyond the horizon)."""

    code = "dates_unavailable"


class LimitReached(Conflict):
    """The email already holds as many upcoming bookings as allowed."""

    code = "limit_reached"


class NotChangeable(Conflict):
    """Already cancelled, honoured, or started."""

    code = "not_changeable"
    default_message = N_("Ce rendez-vous est déjà annulé ou terminé.")


class Unavailable(ServiceError):
    """The database cannot be reached: try again shortly."""

    status, code = 503, "unavailable"
    default_message = N_(
        "Le service est momentanément indisponible : réessayez dans quelques instants."
    )


class QueueFirst(ServiceError):
    """A booking sent without an admitted ticket while citizens wait in line (SPEC §16)."""

    status, code = 429, "queue_first"
    default_message = N_(
        "Beaucoup de personnes prennent rendez-vous en ce moment : ouvrez le formulaire de"
        " rendez-vous depuis le site pour prendre votre place dans la file d'attente."
    )

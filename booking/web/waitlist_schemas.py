"""A partner's (or anyone's) request to wait for a slot, and its answer (SPEC §5, §11)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from booking.domain.text import SPACE
from booking.phones import PHONE_PATTERN
from booking.services.bookings.contact import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    NAME_PATTERN,
    PHONE_MAX,
)
from booking.services.waitlist.join import UNITS_MAX
from booking.web.motif_schemas import Mode
from booking.web.schemas import (
    DAY_PATTERN,
    MODE_HELP,
    PHONE_NEEDED,
    UNIT_ID_PATTERN,
    _parse_day,
    documented,
)

Part = Literal["matin", "apres-midi"]
PARTS = {"matin": "am", "apres-midi": "pm"}


class WaitlistIn(BaseModel):
    """To be offered, by email, a slot that frees at one of some units, between two days."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=PHONE_NEEDED)

    email: str = Field(
        max_length=EMAIL_MAX,
        description="Adresse où l'offre est envoyée.",
        json_schema_extra=documented(EMAIL_PATTERN),
    )
    motif: str = Field(max_length=40, description="Code d'un motif de `/motifs`.")
    unit_ids: list[Annotated[str, Field(max_length=40, pattern=UNIT_ID_PATTERN)]] = Field(
        min_length=1,
        max_length=UNITS_MAX,
        description=f"Unités acceptées (1 à {UNITS_MAX}), dans l'ordre de préférence.",
    )
    from_: str = Field(
        alias="from",
        description="Premier jour qui convient (AAAA-MM-JJ).",
        json_schema_extra=documented(DAY_PATTERN, format="date"),
    )
    to: str = Field(
        description="Dernier jour qui convient (AAAA-MM-JJ) ; au plus l'horizon de réservation.",
        json_schema_extra=documented(DAY_PATTERN, format="date"),
    )
    parts: list[Part] = Field(
        default=["matin", "apres-midi"],
        min_length=1,
        max_length=2,
        description="Moments de la journée qui conviennent (les deux par défaut).",
    )
    mode: Mode = Field(default="on_site", description=MODE_HELP)
    name: str | None = Field(
        default=None,
        max_length=NAME_MAX,
        description="Facultatif : le nom de la personne, sous lequel l'unité verra le créneau"
        " offert (sinon « Liste d'attente »).",
        json_schema_extra=documented(NAME_PATTERN),
    )
    phone: str = Field(
        default="",
        max_length=PHONE_MAX,
        description="Numéro français ; obligatoire pour `mode` `phone`.",
        json_schema_extra=documented(f"^{SPACE}*$|{PHONE_PATTERN}"),
    )
    altcha: str | None = Field(
        default=None,
        max_length=4096,
        description="La solution d'un défi de `/challenge`, quand le service en demande un ;"
        " inutile avec une clé d'API.",
        json_schema_extra=documented(r"^[A-Za-z0-9+/=]*$"),
    )

    @field_validator("from_", "to")
    @classmethod
    def _is_a_day(cls, value: str) -> str:
        """`YYYY-MM-DD`."""
        return _parse_day(value) or value

    def days(self) -> tuple[date, date]:
        """The first and last days."""
        return date.fromisoformat(self.from_), date.fromisoformat(self.to)


class WaitlistOut(BaseModel):
    """The entry made: the same answer whatever the address."""

    id: str = Field(description="Référence de l'inscription.")
    status: Literal["unconfirmed", "waiting"] = Field(
        description="`unconfirmed` : la personne confirme depuis le courriel reçu (sans clé"
        " d'API) ; `waiting` : inscrite (clé d'API)."
    )
    leave_url: str = Field(description="Page de l'inscription : la personne peut en sortir.")

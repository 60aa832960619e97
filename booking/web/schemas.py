"""Shapes of the JSON API, from which its OpenAPI document is generated."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from booking.domain.hours import DAY_KEYS
from booking.domain.predeclaration import FIELD_NAME_PATTERN, FIELDS_MAX, TEXT_MAX
from booking.domain.text import SPACE, TEXT
from booking.domain.words import N_
from booking.phones import PHONE_PATTERN
from booking.services.bookings.contact import (
    COMMENT_MAX,
    COMMENT_PATTERN,
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    NAME_PATTERN,
    PHONE_MAX,
    START_PATTERN,
)
from booking.web.motif_schemas import Mode
from booking.web.place_schemas import PlaceOut

# Patterns stated by the document (booking.web.openapi): identifiers of the URL and body.
UNIT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
REFERENCE_PATTERN = r"^[A-Za-z0-9]{1,12}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,200}$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ANSWER = rf"^{TEXT}*$"  # a pre-declaration's answer: text a person may type
_LATITUDE = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LONGITUDE = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
NEAR_PATTERN = rf"^{_LATITUDE},{_LONGITUDE}$"
_NEAR = re.compile(NEAR_PATTERN)


def documented(pattern: str, **extra: str) -> dict[str, Any]:
    """What the document states of a field that the service itself checks (with its own
    French messages): pydantic does not enforce it twice."""
    return {"pattern": pattern, **extra}


# A phone appointment needs a number to call: what the document says of it.
PHONE_NEEDED: dict[str, Any] = {
    "if": {"properties": {"mode": {"const": "phone"}}, "required": ["mode"]},
    "then": {"required": ["phone"], "properties": {"phone": {"pattern": PHONE_PATTERN}}},
}
MODE_HELP = (
    "`on_site` (à l'unité, par défaut), `phone` (l'unité appelle le numéro donné) ou `video`"
    " (le lien de la visio est envoyé au seul citoyen) ; parmi les `modes` du motif."
)


class ErrorBody(BaseModel):
    """Every error of the API."""

    error: str = Field(description="Code stable de l'erreur, par exemple `invalid`.")
    message: str = Field(description="Explication en français.")
    fields: dict[str, str] | None = Field(
        default=None, description="Erreur de chaque champ refusé."
    )


class UnitSearchParams(BaseModel):
    """Query parameters of the units search."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        default="",
        max_length=100,
        description="Nom de l'unité ou commune.",
        json_schema_extra=documented(f"^{TEXT}*$"),
    )
    postcode: str = Field(default="", pattern=r"^\d{0,5}$", description="Code postal ou son début.")
    department: str = Field(
        default="", pattern=r"^(|\d{2,3}|2[ABab])$", description="Code du département."
    )
    near: str = Field(
        default="",
        description="`LAT,LON` : trier par distance à ce point (vide : sans point).",
        json_schema_extra=documented(f"^$|{NEAR_PATTERN}"),
    )
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=100_000)
    motif: str | None = Field(default=None, description="Motif : ajoute `next_slot`.")
    mode: Mode = Field(
        default="on_site", description="Avec `motif` : le premier créneau dans ce mode."
    )

    @field_validator("near")
    @classmethod
    def _near_is_a_point(cls, value: str) -> str:
        """`LAT,LON` with a latitude in [-90, 90] and a longitude in [-180, 180]."""
        if value:
            parse_point(value)
        return value


def parse_point(value: str) -> tuple[float, float]:
    """(latitude, longitude) of `LAT,LON`, or ValueError with a French message."""
    if not _NEAR.fullmatch(value):
        raise ValueError(
            N_(
                "attendu : latitude,longitude en degrés décimaux (latitude entre -90 et 90,"
                " longitude entre -180 et 180 ; par exemple 45.76,4.83)"
            )
        )
    latitude, longitude = value.split(",")
    return float(latitude), float(longitude)


TimeRange = tuple[str, str]


class UnitOut(BaseModel):
    """A unit as the API shows it."""

    id: str
    name: str
    address: str
    postcode: str
    commune: str
    department: str
    insee: str
    lat: float | None
    lon: float | None
    approximate_location: bool = Field(
        default=False,
        description="Position non donnée par le jeu de données : celle de la commune.",
    )
    phone: str
    email: str
    url: str
    timezone: str
    desks: int
    opening_hours: str = Field(description="Horaires au format OpenStreetMap `opening_hours`.")
    hours: dict[str, list[TimeRange]] = Field(
        description="Plages d'ouverture locales par jour : " + ", ".join(DAY_KEYS) + "."
    )


class UnitHitOut(UnitOut):
    """A unit in search results."""

    distance_km: float | None = Field(
        default=None, description="Distance au point `near`, en kilomètres."
    )
    next_slot: SlotOut | None = Field(
        default=None, description="Premier créneau offert pour `motif`, si demandé."
    )


class PlaceParams(BaseModel):
    """Query parameters of the place suggestions."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        max_length=100,
        description="Ce que la personne a tapé : commune, code postal, code INSEE.",
        json_schema_extra=documented(f"^{TEXT}*$"),
    )
    limit: int = Field(default=8, ge=1, le=20)


class UnitPage(BaseModel):
    """A page of search results."""

    items: list[UnitHitOut]
    total: int
    place: PlaceOut | None = Field(default=None, description="Le lieu compris, s'il y en a un.")
    places: list[PlaceOut] = Field(
        default_factory=list,
        description="Nom partagé non départagé : les lieux possibles (sans unités) ; redemander"
        " avec le `label` choisi (`q=Boisset (15)`).",
    )
    note: str | None = Field(default=None, description="Nom et code postal : ce qui ne va pas.")
    police_territory: bool = Field(
        default=False, description="Aucune unité dans le département du lieu (zone police)."
    )


class SlotOut(BaseModel):
    """An offered slot; times in ISO 8601 with the unit's local offset."""

    start: datetime
    end: datetime
    available: int = Field(description="Places encore libres sur ce créneau.")


def _parse_day(value: str | None) -> str | None:
    """Check a `YYYY-MM-DD` date of the calendar; a French message otherwise."""
    if value is not None:
        try:
            if not re.fullmatch(DAY_PATTERN, value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(N_("date attendue au format AAAA-MM-JJ")) from None
    return value


class SlotParams(BaseModel):
    """Query parameters of the slots of a unit."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    motif: str = Field(max_length=40, description="Code du motif du rendez-vous.")
    mode: Mode = Field(default="on_site", description=MODE_HELP)
    from_: str | None = Field(
        default=None,
        alias="from",
        description="Premier jour (AAAA-MM-JJ, heure locale).",
        json_schema_extra=documented(DAY_PATTERN, format="date"),
    )
    to: str | None = Field(
        default=None,
        description="Dernier jour inclus (AAAA-MM-JJ) ; au-delà de l'horizon, aucun créneau.",
        json_schema_extra=documented(DAY_PATTERN, format="date"),
    )

    @field_validator("from_", "to")
    @classmethod
    def _is_a_day(cls, value: str | None) -> str | None:
        """`YYYY-MM-DD`."""
        return _parse_day(value)

    def days(self) -> tuple[date | None, date | None]:
        """The requested dates."""
        return (
            date.fromisoformat(self.from_) if self.from_ else None,
            date.fromisoformat(self.to) if self.to else None,
        )


class SlotsOut(BaseModel):
    """Offered slots of a unit for a reason, sorted."""

    unit_id: str
    motif: str
    mode: Mode = "on_site"
    timezone: str
    slots: list[SlotOut]


class BookingIn(BaseModel):
    """A booking request."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=PHONE_NEEDED)

    unit_id: str = Field(
        max_length=40,
        description="Identifiant de l'unité (`id` de `/units`), par exemple `01281-01`.",
        json_schema_extra=documented(UNIT_ID_PATTERN),
    )
    motif: str = Field(max_length=40, description="Code d'un motif de `/motifs`.")
    mode: Mode = Field(default="on_site", description=MODE_HELP)
    start: str = Field(
        max_length=60,
        description="Début du créneau, ISO 8601 avec décalage (voir /slots).",
        json_schema_extra=documented(START_PATTERN, format="date-time"),
    )
    name: str = Field(
        max_length=NAME_MAX,
        description="Nom du citoyen : deux caractères visibles au moins.",
        json_schema_extra=documented(NAME_PATTERN),
    )
    email: str = Field(
        default="",
        max_length=EMAIL_MAX,
        description="Adresse électronique (sans caractère accentué). Obligatoire, sauf pour "
        "un rendez-vous discret (`discreet`), qui peut n'en donner aucune : rien n'est "
        "alors envoyé, et `cancel_url` est le seul moyen de gérer le rendez-vous.",
        json_schema_extra=documented(f"^$|{EMAIL_PATTERN}"),
    )
    phone: str = Field(
        default="",
        max_length=PHONE_MAX,
        description="Numéro français, métropole ou outre-mer ; obligatoire pour un rendez-vous"
        " par téléphone (`mode` `phone`), l'unité appelant ce numéro.",
        json_schema_extra=documented(f"^{SPACE}*$|{PHONE_PATTERN}"),
    )
    comment: str = Field(
        default="",
        max_length=COMMENT_MAX,
        description="Facultatif.",
        json_schema_extra=documented(COMMENT_PATTERN),
    )
    declaration: dict[
        str, Annotated[str, Field(max_length=TEXT_MAX, json_schema_extra=documented(ANSWER))]
    ] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("declaration", "pre_declaration"),
        max_length=FIELDS_MAX,
        json_schema_extra={"propertyNames": {"pattern": FIELD_NAME_PATTERN}},
        description="Facultatif : la pré-déclaration, valeurs par nom de champ"
        " (`declaration_fields` de /motifs ; aussi acceptée sous le nom `pre_declaration`)."
        " Lue par les seuls agents de l'unité ; jamais renvoyée par l'API.",
    )
    discreet: bool = Field(
        default=False,
        description="Prise de contact discrète : les courriels et l'invitation ne nomment ni "
        "le motif ni la gendarmerie (toujours vrai pour un motif `discreet`).",
    )
    altcha: str | None = Field(
        default=None,
        max_length=4096,
        description="La solution d'un défi de `/challenge` (base64), quand le service en "
        "demande un (403 `challenge_required` sinon) ; inutile avec une clé d'API "
        "(`Authorization: Bearer …`).",
        json_schema_extra=documented(r"^[A-Za-z0-9+/=]*$"),
    )


class ChallengeOut(BaseModel):
    """A proof-of-work challenge (ALTCHA, version 2): solve it (the `altcha` library or
    widget does) and send the base64 payload as `altcha` with the booking."""

    parameters: dict[str, Any]
    signature: str


class CancelIn(BaseModel):
    """The secret of the cancel link."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(
        max_length=200,
        description="Le secret du lien d'annulation (`token=` de `cancel_url`).",
        json_schema_extra=documented(TOKEN_PATTERN),
    )


class BookingOut(BaseModel):
    """A booking as its owner sees it."""

    reference: str
    status: str = Field(
        description="`confirmed` ; `pending` : à confirmer depuis le lien du courriel envoyé"
        " à l'adresse, sans quoi le créneau est libéré (réservation sans clé d'API)."
    )
    unit_id: str
    motif: str
    mode: Mode = "on_site"
    start: datetime
    end: datetime
    discreet: bool = Field(default=False, description="Prise de contact discrète.")
    cancel_url: str | None = Field(
        default=None, description="Lien à garder : il permet d'annuler ou de déplacer."
    )

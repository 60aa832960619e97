"""A reason for a visit as the API shows it: its modes and its pre-declaration's fields."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, RootModel

Mode = Literal["on_site", "phone", "video"]


class ChoiceOut(BaseModel):
    """One answer of a choice."""

    value: str
    label: str


class PreDeclarationFieldOut(BaseModel):
    """A field of a pre-declaration."""

    name: str = Field(description="Clé à employer dans `pre_declaration` d'une réservation.")
    label: str
    type: str = Field(
        description="`date` (AAAA-MM-JJ), `text` (une ligne), `textarea` ou `choice` "
        "(l'une des `options`, par sa `value`)."
    )
    hint: str
    max_length: int | None = Field(default=None, description="Pour `text` et `textarea`.")
    when: str = Field(
        description="Pour une date : `past` (pas après aujourd'hui), `future` (pas avant), ou vide."
    )
    not_before: str = Field(description="Pour une date : le champ qu'elle ne peut précéder.")
    options: list[ChoiceOut]


class DeclarationFieldOut(BaseModel):
    """A field of a reason's pre-declaration, for a booking's `declaration`."""

    name: str
    label: str
    type: str = Field(description="`date`, `text`, `textarea` ou `choice`.")
    required: bool = Field(description="Toujours faux : chaque champ est facultatif.")
    max_length: int | None = Field(default=None, description="Pour `text` et `textarea`.")


class PreDeclarationOut(BaseModel):
    """The optional pre-declaration of a reason: read by the unit's staff only."""

    intro: str
    fields: list[PreDeclarationFieldOut]


class MotifOut(BaseModel):
    """A reason for a visit."""

    code: str
    label: str
    duration_minutes: int
    discreet: bool
    documents: str = Field(description="Ce qu'il faut apporter.")
    pre_declaration: PreDeclarationOut | None = Field(
        default=None, description="Champs facultatifs que l'unité lira avant le rendez-vous."
    )
    declaration_fields: list[DeclarationFieldOut] = Field(
        default_factory=list, description="Les champs de `pre_declaration`, en bref (SPEC §5)."
    )
    modes: list[Mode] = Field(
        default=["on_site"],
        description="Comment ce motif peut se traiter : `on_site` (à l'unité), `phone`,"
        " `video` (SPEC §12).",
    )


class MotifList(RootModel[list[MotifOut]]):
    """Every reason, in display order."""

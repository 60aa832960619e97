"""A place of the gazetteer as the API shows it: in suggestions and in a search's answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlaceOut(BaseModel):
    """A place of the gazetteer: a commune, an arrondissement, a delegated commune."""

    code: str = Field(
        description="Clé du lieu (`lieu=` d'une recherche) : code INSEE, et type hors commune."
    )
    insee: str
    name: str
    kind: str = Field(description="`commune`, `arrondissement`, `deleguee` ou `associee`.")
    department: str
    postcodes: list[str]
    lat: float | None = Field(description="Mairie, en degrés WGS84 (vide si inconnue).")
    lon: float | None
    label: str = Field(description="Nom et département : `Orléans (45)`.")


class PlaceList(BaseModel):
    """Places a citizen may mean, best first."""

    items: list[PlaceOut]

"""Places of the gazetteer (data/communes.csv): where a citizen says they are."""

from __future__ import annotations

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db


class Place(db.Model):  # type: ignore[name-defined,misc]
    """A commune, a municipal arrondissement, or a delegated or associated commune."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The place's key in links and the API: the INSEE code for a commune, followed by the
    # kind for the others (a delegated commune may share its commune's code).
    code: Mapped[str] = mapped_column(String(24), unique=True)
    insee: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(3))
    postcodes: Mapped[str] = mapped_column(String(200), default="")  # space-separated
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    population: Mapped[int | None]
    parent_insee: Mapped[str] = mapped_column(String(5), default="")

    __table_args__ = (
        UniqueConstraint("insee", "kind", name="places_insee_kind"),
        Index("ix_places_insee", "insee"),
    )

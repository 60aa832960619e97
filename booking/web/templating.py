"""What templates may call: French dates and times in a unit's zone, distances."""

from __future__ import annotations

from flask import Flask

from booking.formatting import dates_fr, day_fr, of_place, time_fr, when_fr, zone_fr


def distance_fr(km: float) -> str:
    """`3,4 km`."""
    return f"{km:.1f}".replace(".", ",") + " km"


def init_app(app: Flask) -> None:
    """Register the filters: `{{ slot.start | when(unit.timezone) }}`."""
    app.jinja_env.filters.update(
        when=when_fr,
        day=day_fr,
        hour=time_fr,
        dates=dates_fr,
        zone=zone_fr,
        distance=distance_fr,
        of_place=of_place,
    )

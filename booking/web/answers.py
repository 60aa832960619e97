"""The API's answers, built as the schemas that document them (booking.web.schemas): what
a client reads is what the OpenAPI document says, field for field."""

from __future__ import annotations

from typing import Any, cast

from flask import Response, jsonify
from pydantic import BaseModel

from booking.domain.hours import DAY_KEYS, format_time, osm_opening_hours
from booking.domain.places import PlaceEntry
from booking.domain.predeclaration import Form
from booking.domain.slots import Slot
from booking.models import Reason, Unit
from booking.services.places.nearby import unit_point
from booking.services.places.search import Found
from booking.services.units.reading import weekly_hours
from booking.web.motif_schemas import (
    ChoiceOut,
    DeclarationFieldOut,
    Mode,
    MotifOut,
    PreDeclarationFieldOut,
    PreDeclarationOut,
)
from booking.web.place_schemas import PlaceOut
from booking.web.schemas import (
    SlotOut,
    UnitHitOut,
    UnitOut,
)


def answer(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    """A JSON answer of a documented shape."""
    return jsonify(model.model_dump(mode="json")), status


def unit_out(unit: Unit) -> dict[str, Any]:
    """A unit as SPEC §5 shows it (the fields of UnitOut)."""
    hours = weekly_hours(unit)
    point, approximate = unit_point(unit)
    return {
        "id": unit.public_id,
        "name": unit.name,
        "address": unit.address,
        "postcode": unit.postcode,
        "commune": unit.commune,
        "department": unit.department,
        "insee": unit.insee,
        "lat": point[0] if point else None,
        "lon": point[1] if point else None,
        "approximate_location": approximate,
        "phone": unit.phone,
        "email": unit.email,
        "url": unit.url,
        "timezone": unit.timezone,
        "desks": unit.desks,
        "opening_hours": osm_opening_hours(hours),
        "hours": {
            key: [(format_time(start), format_time(end)) for start, end in hours.get(day, [])]
            for day, key in enumerate(DAY_KEYS)
        },
    }


def unit_answer(unit: Unit) -> UnitOut:
    """One unit."""
    return UnitOut(**unit_out(unit))


def found_answer(found: Found) -> UnitHitOut:
    """A search result: the unit, its distance for a `near` search, its next slot."""
    return UnitHitOut(
        **unit_out(found.unit),
        distance_km=found.distance_km,
        next_slot=slot_answer(found.next_slot) if found.next_slot else None,
    )


def slot_answer(slot: Slot) -> SlotOut:
    """A slot with local offsets."""
    return SlotOut(start=slot.start, end=slot.end, available=slot.available)


def place_answer(place: PlaceEntry) -> PlaceOut:
    """A place of the gazetteer."""
    lat, lon = place.point if place.point else (None, None)
    return PlaceOut(
        code=place.code,
        insee=place.insee,
        name=place.name,
        kind=place.kind,
        department=place.department,
        postcodes=list(place.postcodes),
        lat=lat,
        lon=lon,
        label=place.label,
    )


def motif_answer(reason: Reason, form: Form | None) -> MotifOut:
    """A reason, with its pre-declaration's fields for partner services."""
    return MotifOut(
        code=reason.code,
        label=reason.label,
        duration_minutes=reason.duration_minutes,
        discreet=reason.discreet,
        documents=reason.documents,
        pre_declaration=pre_declaration_answer(form) if form else None,
        modes=cast(list[Mode], reason.mode_list),
        declaration_fields=[
            DeclarationFieldOut(
                name=field.name,
                label=field.label,
                type=field.kind,
                required=False,
                max_length=field.max_length if field.kind in {"text", "textarea"} else None,
            )
            for field in (form.fields if form else ())
        ],
    )


def pre_declaration_answer(form: Form) -> PreDeclarationOut:
    """A reason's pre-declaration form."""
    return PreDeclarationOut(
        intro=form.intro,
        fields=[
            PreDeclarationFieldOut(
                name=field.name,
                label=field.label,
                type=field.kind,
                hint=field.hint,
                max_length=field.max_length if field.kind in {"text", "textarea"} else None,
                when=field.when,
                not_before=field.not_before,
                options=[ChoiceOut(value=code, label=label) for code, label in field.options],
            )
            for field in form.fields
        ],
    )

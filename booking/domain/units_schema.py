"""The Frictionless Table Schema of the structured layout (the open-data CSV)."""

from __future__ import annotations

from typing import Any

from booking.domain.units_csv import HOUR_COLUMNS
from booking.domain.units_values import DEPARTMENT_PATTERN, INSEE_PATTERN

_TIME_PATTERN = r"^(([01][0-9]|2[0-3])h[0-5][0-9]|24h00)$"

_BASE_FIELDS: list[dict[str, Any]] = [
    {
        "name": "identifiant_public_unite",
        "type": "string",
        "description": "Identifiant public et stable de l'unité",
        "constraints": {"required": True, "unique": True},
    },
    {
        "name": "service",
        "type": "string",
        "description": "Nom de l'unité",
        "constraints": {"required": True},
    },
    {"name": "adresse_geographique", "type": "string", "description": "Adresse complète"},
    {"name": "telephone", "type": "string", "description": "Téléphone de l'accueil"},
    {
        "name": "departement",
        "type": "string",
        "description": "Code du département ou de la collectivité d'outre-mer",
        "constraints": {
            "required": True,
            "pattern": DEPARTMENT_PATTERN,
        },
    },
    {
        "name": "code_commune_insee",
        "type": "string",
        "description": "Code officiel géographique de la commune",
        "constraints": {"pattern": INSEE_PATTERN},
    },
    {"name": "voie", "type": "string", "description": "Numéro et voie"},
    {
        "name": "code_postal",
        "type": "string",
        "description": "Code postal",
        "constraints": {"pattern": r"^[0-9]{5}$"},
    },
    {"name": "commune", "type": "string", "description": "Commune"},
    {
        "name": "geocodage_x_GPS",
        "type": "number",
        "description": "Longitude (WGS84)",
        "constraints": {"minimum": -180, "maximum": 180},
    },
    {
        "name": "geocodage_y_GPS",
        "type": "number",
        "description": "Latitude (WGS84)",
        "constraints": {"minimum": -90, "maximum": 90},
    },
    {"name": "url", "type": "string", "description": "Page de l'unité"},
]


def table_schema() -> dict[str, Any]:
    """The schema: 12 base fields, then 48 local times `HHhMM` (début/fin of 3 ranges a day)."""
    hour_fields = [
        {
            "name": name,
            "type": "string",
            "description": _hour_description(name),
            "constraints": {"pattern": _TIME_PATTERN},
        }
        for name in HOUR_COLUMNS
    ]
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": "unites-gendarmerie-horaires",
        "title": "Unités de gendarmerie accueillant du public et leurs horaires d'ouverture",
        "fields": [dict(field) for field in _BASE_FIELDS] + hour_fields,
        "primaryKey": ["identifiant_public_unite"],
        "missingValues": [""],
    }


def _hour_description(name: str) -> str:
    """`Lundi, plage 1 : début (heure locale)`."""
    day, rest = name.split("_plage")
    number, bound = rest.split("_")
    label = "jours fériés" if day == "jours_feries" else day
    word = "début" if bound == "debut" else "fin"
    return f"{label.capitalize()}, plage {number} : {word} (heure locale, HHhMM)"


def data_package(csv_path: str, schema_path: str) -> dict[str, Any]:
    """A Data Package tying the CSV to its schema and its dialect (`;`)."""
    return {
        "name": "unites-gendarmerie",
        "title": "Unités de gendarmerie accueillant du public",
        "licenses": [
            {
                "name": "etalab-2.0",
                "title": "Licence Ouverte 2.0",
                "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            }
        ],
        "resources": [
            {
                "name": "unites",
                "path": csv_path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ";", "header": True},
                "schema": schema_path,
            }
        ],
    }

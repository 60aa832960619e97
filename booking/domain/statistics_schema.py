"""The Frictionless Table Schema of the public statistics' CSV (`/statistiques.csv`), and
its resource in the Data Package."""

from __future__ import annotations

from typing import Any

from booking.domain.figures import INDICATORS, MASKED

WEEK_PATTERN = r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$"


def table_schema() -> dict[str, Any]:
    """Four columns: the week, the indicator, its dimension, the value (`< 5`: masked)."""
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": "statistiques-rendez-vous-gendarmerie",
        "title": "Statistiques publiques des rendez-vous en gendarmerie, par semaine ISO",
        "fields": [
            {
                "name": "week",
                "type": "string",
                "description": "Semaine ISO 8601, à l'heure de Paris (AAAA-Wss)",
                "constraints": {"required": True, "pattern": WEEK_PATTERN},
            },
            {
                "name": "indicator",
                "type": "string",
                "description": "Indicateur",
                "constraints": {"required": True, "enum": list(INDICATORS)},
            },
            {
                "name": "dimension",
                "type": "string",
                "description": (
                    "Ventilation de l'indicateur : canal, mode, issue, « département|motif »"
                    " (« |motif » pour la France entière), identifiant de l'unité ; vide si aucune"
                ),
            },
            {
                "name": "value",
                "type": "number",
                "description": (
                    "Valeur : un nombre (effectif, taux entre 0 et 1, ou jours) ; « < 5 » pour"
                    " un effectif d'une unité inférieur à 5, qui n'est pas publié"
                ),
            },
        ],
        "missingValues": ["", MASKED],
    }


def data_resource(csv_path: str, schema_path: str) -> dict[str, Any]:
    """The CSV's entry in the Data Package (comma-separated, UTF-8)."""
    return {
        "name": "statistiques",
        "path": csv_path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "header": True},
        "schema": schema_path,
    }

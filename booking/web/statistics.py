"""The public statistics page (SPEC §14): figures the job runner computed into tables, drawn
as SVG charts each beside its data table. The page reads those tables and computes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from booking.domain.words import N_
from booking.errors import UnitNotFound
from booking.extensions import limiter
from booking.formatting import LOCALES
from booking.services import orientation
from booking.services.reasons import list_reasons
from booking.services.slots.offered import MODE_NAMES
from booking.services.statistics import Cell, Figures, figures
from booking.services.units.reading import get_unit
from booking.web.charts import lines, stacked_bars, totals
from booking.web.languages import current_language, say
from booking.web.security import limit

bp = Blueprint("statistics", __name__)

WEEKS = 12
CHANNELS = {
    "online": N_("En ligne"),
    "staff": N_("Par un agent"),
    "invitation": N_("Lien d'invitation"),
    "partner_api": N_("Service partenaire"),
    "waitlist": N_("Liste d'attente"),
}
OUTCOMES = {
    "honoured": N_("Honorés"),
    "no_show": N_("Non honorés (absence)"),
    "cancelled_by_citizen": N_("Annulés par la personne"),
    "cancelled_by_unit": N_("Annulés par l'unité"),
}
LEAD = {"lead_days_p50": N_("Médiane"), "lead_days_p90": N_("90e centile")}
EMAILS = {
    "emails_sent": N_("Envoyés"),
    "emails_retried": N_("Envoyés après un nouvel essai"),
    "emails_failed": N_("Abandonnés"),
}
OFFERS = {
    "waitlist_offers_made": N_("Créneaux proposés"),
    "waitlist_offers_accepted": N_("Créneaux acceptés"),
}


def _locale() -> str:
    """The Babel locale the charts write their numbers in."""
    return LOCALES.get(current_language(), LOCALES["fr"])


def _values(cells: Mapping[str, Cell]) -> dict[str, float]:
    """What a chart draws: the weeks' values, masked cells left out (they are "< 5")."""
    return {week: cell.value for week, cell in cells.items() if not cell.masked}


def _said(names: Mapping[str, str]) -> dict[str, str]:
    """The names in the page's language, each starting with a capital (a legend's entry)."""
    said = {key: say(name) for key, name in names.items()}
    return {key: name[:1].upper() + name[1:] for key, name in said.items()}


def _by_dimension(found: Figures, indicator: str, names: Mapping[str, str]) -> dict[str, Any]:
    """A counted indicator split by a dimension: its chart and its table's rows."""
    series = found.series.get(indicator, {})
    shown = {key: series.get(key, {}) for key in names} | {
        key: cells for key, cells in series.items() if key not in names
    }
    said = _said(names)
    return {
        "chart": stacked_bars(
            found.weeks, {k: _values(v) for k, v in shown.items()}, said, _locale()
        ),
        "rows": [(said.get(key, key), cells) for key, cells in shown.items()],
    }


def _by_indicator(found: Figures, names: Mapping[str, str], unit: str = "") -> dict[str, Any]:
    """Indicators without a dimension, one line each (emails, offers, days)."""
    shown = {key: found.series.get(key, {}).get("", {}) for key in names}
    said = _said(names)
    values = {key: _values(cells) for key, cells in shown.items()}
    return {
        "chart": lines(found.weeks, values, said, unit, _locale()),
        "rows": [(said[key], cells) for key, cells in shown.items()],
    }


def _delays(found: Figures, reason: str) -> dict[str, Any]:
    """The delay to the first free slot for one reason: France week by week, and each
    département's latest measure, longest first."""
    france = found.series.get("first_slot_days", {}).get(f"|{reason}", {})
    names = {"": say(N_("France entière"))}
    chart = lines(found.weeks, {"": _values(france)}, names, say(N_(" j")), _locale())
    latest = sorted(
        (row for row in found.latest_delays if row.reason_code == reason and row.department),
        key=lambda row: (-(row.median_days or 0.0), row.department),
    )
    return {"chart": chart, "france": france, "departments": latest}


def _totals(found: Figures, indicator: str, names: Mapping[str, str]) -> dict[str, Any]:
    """A dimension with many values, summed over the weeks shown, largest first."""
    series = found.series.get(indicator, {})
    summed = [
        (names.get(key, key), sum(cell.value for cell in cells.values() if not cell.masked))
        for key, cells in series.items()
    ]
    rows = sorted((row for row in summed if row[1]), key=lambda row: (-row[1], row[0]))
    return {"chart": totals(rows, _locale()), "rows": rows}


@bp.get("/statistiques")
@limiter.shared_limit(lambda: limit("SEARCH"), scope="search")
def page() -> ResponseReturnValue:
    """The statistics of the last weeks; `motif` chooses the reason of the delays, `unite`
    shows one unit's bookings ("< 5" below five)."""
    reasons = [reason for reason in list_reasons() if not reason.discreet]
    codes = [reason.code for reason in reasons]
    reason = request.args.get("motif", "")
    reason = reason if reason in codes else (codes[0] if codes else "")
    unit = request.args.get("unite", "").strip().upper()[:20]
    unknown = False
    if unit:
        try:
            get_unit(unit)
        except UnitNotFound:
            unknown = True
    found = figures(WEEKS, unit=unit if unit and not unknown else None)
    outcomes = orientation.tree().outcomes
    orienteur = {name: say(outcome.title) for name, outcome in outcomes.items()}
    rates = found.series.get("no_show_rate", {}).get("", {})
    return render_template(
        "statistics.html",
        found=found,
        weeks=found.weeks,
        reasons=reasons,
        reason=reason,
        unit=unit,
        unknown=unknown,
        unit_cells=found.series.get("unit_bookings", {}).get(unit, {}) if unit else {},
        delays=_delays(found, reason),
        channels=_by_dimension(found, "bookings_by_channel", CHANNELS),
        modes=_by_dimension(found, "bookings_by_mode", MODE_NAMES),
        outcomes=_by_dimension(found, "visits_by_outcome", OUTCOMES),
        no_show=lines(
            found.weeks,
            {"": {week: cell.value * 100 for week, cell in rates.items()}},
            {"": say(N_("Taux de non-présentation"))},
            " %",
            _locale(),
        ),
        no_show_cells=rates,
        lead=_by_indicator(found, LEAD, say(N_(" j"))),
        emails=_by_indicator(found, EMAILS),
        offers=_by_indicator(found, OFFERS),
        orienteur=_totals(found, "orientation_outcomes", orienteur),
    )

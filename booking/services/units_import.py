"""Import the units dataset: upsert by identifier, deactivate the absent, keep local edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from booking import clock
from booking.domain.hours import Range
from booking.domain.text import fold
from booking.domain.units_csv import RowProblem, UnitRecord
from booking.domain.units_reader import read_units
from booking.domain.zones import unit_timezone
from booking.errors import Conflict
from booking.extensions import db
from booking.models import OpeningRange, Unit
from booking.phones import display_phone, repair_phone
from booking.services.units import unit_record

# An import that would close more than this share of the active units is taken for a mistake.
MAX_DEACTIVATED_SHARE = 0.10
_COMPARED_FIELDS = (
    "name",
    "address",
    "phone",
    "department",
    "insee",
    "street",
    "postcode",
    "commune",
    "longitude",
    "latitude",
    "url",
)


@dataclass
class ImportReport:
    """What an import found and did, for a person to act on."""

    layout: str = ""
    rows_read: int = 0
    units_in_file: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        """The report in French: counts first, then each problem."""
        layout = {"structured": "structuré", "free_text": "texte libre"}.get(self.layout, "?")
        rejected = sum(1 for problem in self.problems if problem.rejected)
        lines = [
            f"Format : {layout} — {self.rows_read} lignes lues, {self.units_in_file} unités"
            f" valides, {rejected} lignes ignorées",
            f"Unités créées : {self.created}, modifiées : {self.updated},"
            f" inchangées : {self.unchanged}, réactivées : {self.reactivated},"
            f" désactivées : {len(self.deactivated)}",
        ]
        lines += [f"Remarque : {notice}" for notice in self.notices]
        if self.problems:
            lines.append(f"Problèmes ({len(self.problems)}) :")
            lines += [f"  {problem}" for problem in self.problems]
        if self.conflicts:
            lines.append(f"Conflits avec des modifications locales ({len(self.conflicts)}) :")
            lines += [f"  {conflict}" for conflict in self.conflicts]
        if self.deactivated:
            shown = ", ".join(self.deactivated[:20])
            more = "…" if len(self.deactivated) > 20 else ""
            lines.append(f"Unités absentes du fichier, désactivées : {shown}{more}")
        if self.dry_run:
            lines.append("Essai à blanc (--dry-run) : rien n'a été enregistré.")
        return lines


class ImportRefused(Conflict):
    """The import was stopped before changing anything; the message says why (French)."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def import_units(
    data: bytes,
    *,
    dry_run: bool = False,
    strict: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Load a units file into the database in one transaction; DatasetError if the file is bad."""
    now = now or clock.now()
    parsed = read_units(data)
    report = ImportReport(
        layout=parsed.layout,
        rows_read=parsed.rows_read,
        units_in_file=len(parsed.records),
        problems=parsed.problems,
        notices=parsed.notices,
        dry_run=dry_run,
    )
    for line, record in parsed.records:
        _normalise_phone(record, line, report.problems)
    report.problems.sort(key=lambda problem: problem.line)
    if strict and report.problems:
        raise ImportRefused(
            f"{len(report.problems)} problèmes dans le fichier et --strict demandé :"
            " rien n'a été importé",
            report,
        )
    existing = {
        unit.public_id: unit
        for unit in db.session.scalars(select(Unit).options(selectinload(Unit.opening_ranges)))
    }
    present = {record.public_id for _, record in parsed.records} | parsed.rejected_ids
    active = [unit for unit in existing.values() if unit.active]
    absent = sorted(unit.public_id for unit in active if unit.public_id not in present)
    if absent and len(absent) > MAX_DEACTIVATED_SHARE * len(active) and not force:
        report.deactivated = absent
        raise ImportRefused(
            f"ce fichier désactiverait {len(absent)} des {len(active)} unités actives"
            " (plus d'un dixième) : rien n'a été importé. Un fichier partiel est plus souvent"
            " une erreur qu'une fermeture massive ; relancez avec --force si c'est voulu.",
            report,
        )
    new_records = [record for _, record in parsed.records if record.public_id not in existing]
    _insert_units(new_records, now)
    report.created = len(new_records)
    for _, record in parsed.records:
        unit = existing.get(record.public_id)
        if unit is None:
            continue
        if _update_unit(unit, record, force, now, report):
            report.updated += 1
        else:
            report.unchanged += 1
    for public_id in absent:
        existing[public_id].active = False
        existing[public_id].updated_at = now
    report.deactivated = absent
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report


def _normalise_phone(record: UnitRecord, line: int, problems: list[RowProblem]) -> None:
    """Write a valid number in the international form; keep and report an invalid one."""
    if not record.phone:
        return
    formatted = display_phone(record.phone, record.department)
    if formatted is not None:
        record.phone = formatted
        return
    repaired = repair_phone(record.phone, record.department)
    if repaired is None:
        reason = f"numéro invalide « {record.phone} », gardé tel quel"
    else:
        reason = f"numéro invalide « {record.phone} », corrigé en « {repaired} »"
        record.phone = repaired
    problems.append(RowProblem(line, "telephone", reason, False))


def _insert_units(records: list[UnitRecord], now: datetime) -> None:
    """Create units in bulk (a first import creates thousands: the unit of work is too slow)."""
    if not records:
        return
    rows = [
        {
            **{name: getattr(record, name) for name in _COMPARED_FIELDS},
            "public_id": record.public_id,
            "timezone": unit_timezone(record.department).key,
            "email": record.email or "",
            "desks": 1,
            "active": True,
            "search_key": fold(f"{record.name} {record.commune}"),
            "hours_edited_locally": False,
            "created_at": now,
            "updated_at": now,
        }
        for record in records
    ]
    result = db.session.execute(insert(Unit).returning(Unit.public_id, Unit.id), rows)
    ids = {public_id: unit_id for public_id, unit_id in result}
    ranges = [
        {"unit_id": ids[record.public_id], "weekday": day, "start_minute": start, "end_minute": end}
        for record in records
        for day, day_ranges in sorted(record.hours.items())
        for start, end in day_ranges
    ]
    if ranges:
        db.session.execute(insert(OpeningRange), ranges)


def _update_unit(
    unit: Unit, record: UnitRecord, force: bool, now: datetime, report: ImportReport
) -> bool:
    """Bring a known unit up to date with the file; True when something changed."""
    current = unit_record(unit)
    changed = [name for name in _COMPARED_FIELDS if getattr(current, name) != getattr(record, name)]
    for name in changed:
        setattr(unit, name, getattr(record, name))
    if record.email is not None and record.email != unit.email:
        unit.email = record.email
        changed.append("email")
    if record.hours != current.hours:
        if unit.hours_edited_locally and not force:
            report.conflicts.append(
                f"{unit.public_id} ({unit.name}) : horaires modifiés localement par l'unité,"
                " gardés (--force pour prendre ceux du fichier)"
            )
        else:
            unit.opening_ranges = _ranges(record.hours)
            unit.hours_edited_locally = False
            changed.append("hours")
    if not unit.active:
        unit.active = True
        report.reactivated += 1
        changed.append("active")
    if not changed:
        return False
    unit.timezone = unit_timezone(unit.department).key
    unit.search_key = fold(f"{unit.name} {unit.commune}")
    unit.updated_at = now
    return True


def _ranges(hours: dict[int, list[Range]]) -> list[OpeningRange]:
    """Opening-range rows for weekly hours."""
    return [
        OpeningRange(weekday=day, start_minute=start, end_minute=end)
        for day, ranges in sorted(hours.items())
        for start, end in ranges
    ]

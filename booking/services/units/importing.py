"""Import the units dataset: upsert by identifier, deactivate the absent, keep local edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import joinedload, selectinload

from booking import clock
from booking.database import begin_write
from booking.domain.hours import Range
from booking.domain.slots import within_opening_hours
from booking.domain.text import fold
from booking.domain.units_csv import FIELD_LENGTHS, RowProblem, UnitRecord
from booking.domain.units_reader import ParsedDataset, read_units, unit_records
from booking.domain.zones import unit_timezone
from booking.errors import Conflict
from booking.extensions import db
from booking.formatting import when_fr
from booking.models import Booking, OpeningRange, Unit, holding_seat
from booking.phones import display_phone, repair_phone
from booking.services.staff.agenda import cancel_for_unit
from booking.services.units.reading import unit_record, weekly_hours

# An import that would close more than this share of the active units is taken for a mistake.
MAX_DEACTIVATED_SHARE = 0.10
BATCH = 500  # units read, written and forgotten at a time
HOURS_CHANGED = (
    "Les horaires d'accueil de l'unité ont changé : elle n'est plus ouverte à cette heure-là."
)
UNIT_CLOSED = "L'unité ne reçoit plus de public sur rendez-vous."
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
    # Visits the file's hours (or a unit's absence) leave out: listed, then cancelled with
    # --force. `cancelled` counts those cancelled.
    visits: list[str] = field(default_factory=list)
    cancelled: int = 0
    dry_run: bool = False
    refused: bool = False  # nothing was written: the counts say what would have been done

    def lines(self) -> list[str]:
        """The report in French: counts first, then each problem."""
        layout = {"structured": "structuré", "free_text": "texte libre"}.get(self.layout, "?")
        rejected = sum(1 for problem in self.problems if problem.rejected)
        would = "Rien n'a été enregistré ; " if self.refused else ""
        verb = "seraient " if self.refused else ""
        lines = [
            f"Format : {layout} — {self.rows_read} lignes lues, {self.units_in_file} unités"
            f" valides, {rejected} lignes ignorées",
            f"{would}Unités {verb}créées : {self.created}, {verb}modifiées : {self.updated},"
            f" inchangées : {self.unchanged}, {verb}réactivées : {self.reactivated},"
            f" {verb}désactivées : {len(self.deactivated)}",
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
            label = "à désactiver" if self.refused else "désactivées"
            lines.append(f"Unités absentes du fichier, {label} : {shown}{more}")
        if self.visits:
            done = (
                "annulés, les personnes prévenues par courriel"
                if self.cancelled
                else ("à annuler (--force les annule et prévient les personnes par courriel)")
            )
            lines.append(
                f"Rendez-vous à venir que ce fichier exclut ({len(self.visits)}), {done} :"
            )
            lines += [f"  {visit}" for visit in self.visits]
        if self.cancelled:
            lines.append(f"Rendez-vous annulés : {self.cancelled}")
        if self.dry_run:
            lines.append("Essai à blanc (--dry-run) : rien n'a été enregistré.")
        return lines


class ImportRefused(Conflict):
    """The import was stopped before changing anything; the message says why (French)."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        report.refused = True
        self.report = report


@dataclass(frozen=True)
class _Known:
    """A unit already in the database, as the import first needs it (not the ORM object:
    a file of 50,000 rows must not load 50,000 of them at once)."""

    id: int
    active: bool


def import_units(
    data: bytes,
    *,
    dry_run: bool = False,
    strict: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Load a units file into the database in one transaction; DatasetError if the file is bad.

    Memory stays bounded: the file is checked first (problems and identifiers kept, not the
    rows), then read again and written BATCH units at a time.
    """
    now = now or clock.now()
    parsed = read_units(data)
    report = ImportReport(
        layout=parsed.layout,
        rows_read=parsed.rows_read,
        units_in_file=parsed.units,
        problems=parsed.problems,
        notices=parsed.notices,
        dry_run=dry_run,
    )
    for line, record in unit_records(data, parsed):
        _normalise_phone(record, line, report.problems)
    report.problems.sort(key=lambda problem: problem.line)
    if strict and report.problems:
        raise ImportRefused(
            f"{len(report.problems)} problèmes dans le fichier et --strict demandé :"
            " rien n'a été importé",
            report,
        )
    begin_write()
    known = {
        public_id: _Known(unit_id, active)
        for public_id, unit_id, active in db.session.execute(
            select(Unit.public_id, Unit.id, Unit.active)
        )
    }
    present = set(parsed.lines) | parsed.rejected_ids
    active = sum(1 for unit in known.values() if unit.active)
    absent = sorted(
        public_id for public_id, unit in known.items() if unit.active and public_id not in present
    )
    report.deactivated = absent
    if absent and len(absent) > MAX_DEACTIVATED_SHARE * active and not force:
        raise ImportRefused(
            f"ce fichier désactiverait {len(absent)} des {active} unités actives"
            " (plus d'un dixième) : rien n'a été importé. Un fichier partiel est plus souvent"
            " une erreur qu'une fermeture massive ; relancez avec --force si c'est voulu.",
            report,
        )
    changed_hours: dict[int, tuple[dict[int, list[Range]], str]] = {}
    batch: list[UnitRecord] = []
    for line, record in unit_records(data, parsed):
        _normalise_phone(record, line, [])
        batch.append(record)
        if len(batch) == BATCH:
            _write_batch(batch, known, force, now, report, changed_hours)
            batch = []
    _write_batch(batch, known, force, now, report, changed_hours)
    for public_id in absent:
        db.session.execute(
            update(Unit).where(Unit.id == known[public_id].id).values(active=False, updated_at=now)
        )
    _check_visits(parsed, known, absent, changed_hours, force, now, report)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report


def _write_batch(
    records: list[UnitRecord],
    known: dict[str, _Known],
    force: bool,
    now: datetime,
    report: ImportReport,
    changed_hours: dict[int, tuple[dict[int, list[Range]], str]],
) -> None:
    """Create the new units of a batch and bring the known ones up to date; then forget
    the batch's objects (flushed, they stay in the transaction)."""
    if not records:
        return
    new_records = [record for record in records if record.public_id not in known]
    _insert_units(new_records, now)
    report.created += len(new_records)
    ids = [known[record.public_id].id for record in records if record.public_id in known]
    units = {
        unit.id: unit
        for unit in db.session.scalars(
            select(Unit).where(Unit.id.in_(ids)).options(selectinload(Unit.opening_ranges))
        )
    }
    for record in records:
        entry = known.get(record.public_id)
        if entry is None:
            continue
        unit = units[entry.id]
        changed = _update_unit(unit, record, force, now, report)
        if not changed:
            report.unchanged += 1
            continue
        report.updated += 1
        if "hours" in changed or "department" in changed:
            changed_hours[unit.id] = (weekly_hours(unit), unit.department)
    db.session.flush()
    db.session.expunge_all()


def _check_visits(
    parsed: ParsedDataset,
    known: dict[str, _Known],
    absent: list[str],
    changed_hours: dict[int, tuple[dict[int, list[Range]], str]],
    force: bool,
    now: datetime,
    report: ImportReport,
) -> None:
    """The visits still to come that new hours or a unit's absence leave out: listed and
    the import refused; with --force, cancelled with the reason, the citizens notified.

    The units' rows are written before this read (on PostgreSQL, locked until commit): a
    booking being made meanwhile waits for the import, then is checked against its hours.
    """
    closed = {known[public_id].id for public_id in absent}
    concerned = sorted(set(changed_hours) | closed)
    affected: list[tuple[Booking, str]] = []
    for first in range(0, len(concerned), BATCH):
        ids = concerned[first : first + BATCH]
        bookings = db.session.scalars(
            select(Booking)
            .where(
                Booking.unit_id.in_(ids),
                holding_seat(now=now),
                Booking.starts_at > now,
            )
            .options(joinedload(Booking.unit), joinedload(Booking.reason))
            .order_by(Booking.starts_at, Booking.id)
        )
        for booking in bookings:
            if booking.unit_id in closed:
                affected.append((booking, UNIT_CLOSED))
                continue
            hours, department = changed_hours[booking.unit_id]
            if not within_opening_hours(hours, department, booking.starts_at, booking.ends_at):
                affected.append((booking, HOURS_CHANGED))
    for booking, reason in affected:
        where = parsed.lines.get(booking.unit.public_id)
        at = f"ligne {where}, " if where else ""
        why = (
            "unité absente du fichier" if reason == UNIT_CLOSED else "hors des horaires du fichier"
        )
        report.visits.append(
            f"{at}unité {booking.unit.public_id} : rendez-vous {booking.reference}"
            f" du {when_fr(booking.starts_at, booking.unit.timezone)} ({why})"
        )
    if affected and not force:
        raise ImportRefused(
            f"{len(affected)} rendez-vous à venir tombent hors des horaires du fichier ou dans"
            " une unité qu'il retire : rien n'a été importé. Relancez avec --force pour les"
            " annuler ; chaque personne est prévenue par courriel, avec la raison.",
            report,
        )
    for booking, reason in affected:
        cancel_for_unit(None, booking, reason)
    report.cancelled = len(affected)
    db.session.flush()


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
    most = FIELD_LENGTHS["telephone"]
    if len(record.phone) > most:
        reason = f"numéro invalide de plus de {most} caractères, ignoré"
        record.phone = ""
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
) -> list[str]:
    """Bring a known unit up to date with the file; what changed (`hours` among others)."""
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
        return changed
    unit.timezone = unit_timezone(unit.department).key
    unit.search_key = fold(f"{unit.name} {unit.commune}")
    unit.updated_at = now
    return changed


def _ranges(hours: dict[int, list[Range]]) -> list[OpeningRange]:
    """Opening-range rows for weekly hours."""
    return [
        OpeningRange(weekday=day, start_minute=start, end_minute=end)
        for day, ranges in sorted(hours.items())
        for start, end in ranges
    ]

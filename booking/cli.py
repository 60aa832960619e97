"""Command line: `flask --app wsgi units …`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from booking import jobs
from booking.domain.units_csv import DatasetError
from booking.errors import ServiceError
from booking.extensions import db
from booking.formatting import local
from booking.models import Reason, Unit
from booking.services.bookings.predeclarations import rotate_keys
from booking.services.places.gazetteer import load_places, places_loaded
from booking.services.reasons import ReasonsFileError, load_reasons
from booking.services.staff import second_factor
from booking.services.staff.accounts import (
    StaffError,
    change_password,
    create_staff,
    delete_staff,
    set_active,
)
from booking.services.staff.identities import Refused, unlink
from booking.services.staff.second_factor import WrongCode
from booking.services.statistics import measure_delays, refresh_figures
from booking.services.units.capacities import Capacities, TooFewSeats, set_capacities
from booking.services.units.exporting import export_csv
from booking.services.units.importing import ImportRefused, import_units
from booking.web import assets

units_cli = AppGroup("units", help="Import and export the units dataset.")
motifs_cli = AppGroup("motifs", help="Reasons for a visit.")
jobs_cli = AppGroup("jobs", help="Background jobs: outbox, reminders.")
staff_cli = AppGroup("staff", help="Staff accounts.")
places_cli = AppGroup("places", help="The gazetteer of communes.")
assets_cli = AppGroup("assets", help="Static files, compressed and fingerprinted.")
bookings_cli = AppGroup("bookings", help="Bookings' stored data.")
statistics_cli = AppGroup("statistics", help="Public statistics (the job runner computes them).")


@jobs_cli.command("run")
def run_jobs_command() -> None:
    """Run the job runner (only one is active at a time; others stand by)."""
    jobs.run(current_app._get_current_object())  # type: ignore[attr-defined]


@units_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Read and report, change nothing.")
@click.option("--strict", is_flag=True, help="Any row problem fails the whole import.")
@click.option("--force", is_flag=True, help="Allow mass deactivation; overwrite local edits.")
def import_command(path: str, dry_run: bool, strict: bool, force: bool) -> None:
    """Import a units file (structured or free-text layout) and print a report."""
    data = _read_input(path)
    try:
        report = import_units(data, dry_run=dry_run, strict=strict, force=force)
    except DatasetError as error:
        db.session.rollback()
        click.echo(f"Fichier refusé : {error}. Rien n'a été modifié.", err=True)
        sys.exit(1)
    except ImportRefused as refusal:
        db.session.rollback()
        for line in refusal.report.lines():
            click.echo(line)
        click.echo(f"Import arrêté : {refusal}", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)


@units_cli.command("set")
@click.argument("public_id")
@click.option("--desks", type=int, help="Visitors served at once on site (1 or more).")
@click.option("--remote-lines", type=int, help="Phone and video appointments at once (0: none).")
def set_command(public_id: str, desks: int | None, remote_lines: int | None) -> None:
    """Set a unit's capacities; refused, with the visits listed, below what is booked."""
    unit = db.session.scalar(select(Unit).where(Unit.public_id == public_id))
    if unit is None:
        click.echo(f"Aucune unité ne porte l'identifiant {public_id}.", err=True)
        sys.exit(1)
    try:
        unit = set_capacities(None, unit.id, Capacities(desks, remote_lines))
    except TooFewSeats as refused:
        click.echo(refused.message, err=True)
        for visit in refused.visits:
            when = local(visit.starts_at, unit.timezone).strftime("%d/%m/%Y %H:%M")
            click.echo(f"  {visit.reference}  {when}  {visit.mode}", err=True)
        sys.exit(1)
    except ServiceError as error:
        click.echo(" ".join([error.message, *error.fields.values()]), err=True)
        sys.exit(1)
    click.echo(f"{unit.public_id} : {unit.desks} guichet(s), {unit.remote_lines} ligne(s).")


@units_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
def export_command(path: str) -> None:
    """Write the open-data CSV of the active units (`-` for standard output)."""
    data = export_csv()
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(path).write_bytes(data)
        rows = data.count(b"\n") - 1
        click.echo(f"{rows} unités écrites dans {path}", err=True)


@units_cli.command("bootstrap")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def bootstrap_command(path: str) -> None:
    """First start: load the default reasons and the gazetteer, and import PATH if there is
    no unit yet."""
    if not db.session.scalar(select(func.count(Reason.code))):
        click.echo(f"Motifs chargés : {load_reasons()}")
    if not places_loaded():
        click.echo(f"Lieux chargés : {load_places()}")
    if db.session.scalar(select(func.count(Unit.id))):
        click.echo("Unités déjà chargées : rien à importer.")
        return
    for line in import_units(Path(path).read_bytes()).lines()[:2]:
        click.echo(line)


@places_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), required=False)
def load_places_command(path: str | None) -> None:
    """Replace the gazetteer with a communes file (default: data/communes.csv)."""
    count = load_places(Path(path)) if path else load_places()
    click.echo(f"Lieux chargés : {count}")


@staff_cli.command("create")
@click.option("--email", required=True, help="The agent's email (their login).")
@click.option("--password", required=True, help="At least 12 characters.")
@click.option("--unit", "units", multiple=True, help="A unit identifier; repeat for several.")
@click.option("--admin", is_flag=True, help="Administrator of every unit.")
def create_staff_command(email: str, password: str, units: tuple[str, ...], admin: bool) -> None:
    """Create a staff account attached to units."""
    try:
        user = create_staff(email, password, list(units), admin)
    except StaffError as error:
        db.session.rollback()
        click.echo(f"Compte non créé : {error}.", err=True)
        sys.exit(1)
    role = "administrateur" if admin else "agent de " + ", ".join(units)
    click.echo(f"Compte créé : {user.email} ({role}).")


@staff_cli.command("password")
@click.option("--email", required=True, help="The agent's email (their login).")
@click.option("--password", required=True, help="At least 12 characters.")
def password_command(email: str, password: str) -> None:
    """Set a new password; every open session of the account ends."""
    try:
        user = change_password(email, password)
    except StaffError as error:
        db.session.rollback()
        click.echo(f"Mot de passe non changé : {error}.", err=True)
        sys.exit(1)
    click.echo(f"Mot de passe changé : {user.email} ; ses sessions ouvertes sont fermées.")


def _account_change(name: str, change: Callable[[str], object], done: str, help_: str) -> None:
    """A command that changes one account by email, audited, and says what it did."""

    @staff_cli.command(name, help=help_)
    @click.option("--email", required=True, help="The agent's email (their login).")
    def command(email: str) -> None:
        try:
            change(email)
        except (StaffError, WrongCode, Refused) as error:
            db.session.rollback()
            click.echo(f"Rien n'est changé : {error}.", err=True)
            sys.exit(1)
        click.echo(f"{email.strip().lower()} : {done}.")


_account_change(
    "reset-second-factor",
    lambda email: second_factor.reset(None, email),
    "second facteur réinitialisé, sessions fermées ; il se remettra en place à la connexion",
    "Reset an agent's second factor (a lost phone); their sessions end.",
)
_account_change(
    "deactivate",
    lambda email: set_active(None, email, active=False),
    "compte désactivé, sessions fermées",
    "Deactivate an account; its sessions end at once.",
)
_account_change(
    "activate",
    lambda email: set_active(None, email, active=True),
    "compte réactivé",
    "Give a deactivated account its access back.",
)
_account_change(
    "unlink-proconnect",
    lambda email: unlink(None, email),
    "identité ProConnect déliée",
    "Forget the ProConnect identity linked to an account.",
)
_account_change(
    "delete", delete_staff, "compte supprimé", "Delete an account; its sessions end at once."
)


@motifs_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), required=False)
def load_motifs_command(path: str | None) -> None:
    """Create or update the reasons listed in a JSON file (default: data/motifs.json)."""
    try:
        count = load_reasons(Path(path)) if path else load_reasons()
    except ReasonsFileError as error:
        db.session.rollback()
        click.echo(f"Motifs non chargés : {error}", err=True)
        sys.exit(1)
    click.echo(f"Motifs chargés : {count}")


def _read_input(path: str) -> bytes:
    """The bytes of a file, or of standard input for `-`; a clear error when unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        click.echo(f"Fichier introuvable : {path}. Rien n'a été modifié.", err=True)
    except OSError as error:
        click.echo(f"Fichier illisible : {path} ({error}). Rien n'a été modifié.", err=True)
    sys.exit(1)


@assets_cli.command("build")
def build_assets_command() -> None:
    """Build the compressed, fingerprinted static files (for a read-only installation:
    at deploy time, with the same ASSETS_DIR as the web servers)."""
    target = assets.assets_dir(current_app.config["ASSETS_DIR"])
    names = assets.build(assets.SOURCE, target)
    click.echo(f"Fichiers statiques prêts : {len(names)} dans {target}")


@bookings_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Seal every pre-declaration again under the first of PRE_DECLARATION_KEYS."""
    done, unreadable = rotate_keys()
    click.echo(f"Pré-déclarations chiffrées avec la nouvelle clé : {done}")
    if unreadable:
        click.echo(
            f"{unreadable} pré-déclaration(s) ne s'ouvrent avec aucune clé donnée :"
            " laissées telles quelles ; gardez l'ancienne clé tant qu'elles existent.",
            err=True,
        )
        sys.exit(1)


@statistics_cli.command("refresh")
def refresh_statistics_command() -> None:
    """Recompute the weekly figures now (the job runner does every five minutes)."""
    click.echo(f"Statistiques recalculées : {refresh_figures()} chiffres écrits.")


@statistics_cli.command("measure")
def measure_statistics_command() -> None:
    """Measure today's delay to the first free slot now (the job runner does at 06:00)."""
    click.echo(f"Délais mesurés : {measure_delays()} lignes (départements et France, par motif).")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(units_cli)
    app.cli.add_command(motifs_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(places_cli)
    app.cli.add_command(assets_cli)
    app.cli.add_command(bookings_cli)
    app.cli.add_command(statistics_cli)

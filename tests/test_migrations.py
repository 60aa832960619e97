"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from booking.db_rules import CLOSED, OVERBOOKING, is_overbooking, refusal
from booking.extensions import db

BOOKING = (
    "INSERT INTO bookings (reference, unit_id, reason_code, starts_at, ends_at, status, name,"
    " email, phone, comment, token_hash, ics_uid, ics_sequence, cancel_reason, reminder_error,"
    " created_at, updated_at) VALUES (:ref, 1, 'otv', :start, :end, 'confirmed', 'A', 'a@b.fr',"
    " '', '', 'h', :ref, 0, '', '', :start, :start)"
)


def test_upgrade_from_empty_matches_the_models_and_downgrades(app: Flask) -> None:
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        _migrated_database_refuses_overbooking()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = db.inspect(connection).get_table_names()
        assert set(tables) <= {"alembic_version"}
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def _migrated_database_guards_closures_and_desks() -> None:
    """A closure over a visit still to come, and fewer desks than visits, are refused too."""
    with db.engine.begin() as connection:
        connection.execute(
            text(BOOKING),
            {"ref": "C", "start": "2099-12-01 08:00:00", "end": "2099-12-01 09:00:00"},
        )
    closure = (
        "INSERT INTO closures (unit_id, starts_at, ends_at, reason, created_at)"
        " VALUES (1, '2099-12-01 08:30:00', '2099-12-01 10:00:00', 'Travaux', :t)"
    )
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text(closure), {"t": "2026-01-01 00:00:00"})
    assert refusal(error.value) == CLOSED
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE units SET desks = 2 WHERE id = 1"))
        connection.execute(
            text(BOOKING),
            {"ref": "D", "start": "2099-12-01 08:00:00", "end": "2099-12-01 09:00:00"},
        )
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text("UPDATE units SET desks = 1 WHERE id = 1"))
    assert refusal(error.value) == OVERBOOKING


def _migrated_database_counts_each_capacity_apart() -> None:
    """Phone and video draw on the remote lines, together, whatever the desks hold; fewer
    lines than booked are refused."""
    remote = BOOKING.replace("status, name,", "status, mode, name,").replace(
        "'confirmed', 'A',", "'confirmed', :mode, 'A',"
    )
    at = {"start": "2099-12-01 08:00:00", "end": "2099-12-01 09:00:00"}
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text(remote), {"ref": "P0", "mode": "phone", **at})  # no line
    assert is_overbooking(error.value)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE units SET remote_lines = 1 WHERE id = 1"))
        connection.execute(text(remote), {"ref": "P1", "mode": "phone", **at})
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text(remote), {"ref": "V1", "mode": "video", **at})
    assert is_overbooking(error.value)
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(text("UPDATE units SET remote_lines = 0 WHERE id = 1"))
    assert refusal(error.value) == OVERBOOKING


def _migrated_database_refuses_overbooking() -> None:
    """The desk rule's triggers come with the migrations, not only with create_all."""
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO units (id, public_id, name, address, street, postcode, commune,"
                " insee, department, phone, email, url, timezone, desks, active, search_key,"
                " hours_edited_locally, created_at, updated_at) VALUES (1, 'X', 'X', '', '', '',"
                " '', '', '01', '', '', '', 'Europe/Paris', 1, true, '', false, :t, :t)"
            ),
            {"t": "2026-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO reasons (code, label, duration_minutes, discreet, documents,"
                " position, active) VALUES ('otv', 'OTV', 30, false, '', 0, true)"
            )
        )
        connection.execute(
            text(BOOKING),
            {"ref": "A", "start": "2026-12-01 08:00:00", "end": "2026-12-01 09:00:00"},
        )
    with pytest.raises(DBAPIError) as error, db.engine.begin() as connection:
        connection.execute(
            text(BOOKING),
            {"ref": "B", "start": "2026-12-01 08:30:00", "end": "2026-12-01 09:00:00"},
        )
    assert is_overbooking(error.value)
    _migrated_database_guards_closures_and_desks()
    _migrated_database_counts_each_capacity_apart()
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM closures"))
        connection.execute(text("DELETE FROM bookings"))
        connection.execute(text("DELETE FROM reasons"))
        connection.execute(text("DELETE FROM units"))


def test_going_back_before_modes_is_refused_while_remote_visits_are_to_come(
    app: Flask, capfd: pytest.CaptureFixture[str]
) -> None:
    """Without modes, a phone appointment still to come would become a visit at a desk the
    unit may not have: the downgrade names it and changes nothing."""
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO units (id, public_id, name, address, street, postcode, commune,"
                    " insee, department, phone, email, url, timezone, desks, remote_lines,"
                    " active, search_key, hours_edited_locally, created_at, updated_at) VALUES"
                    " (1, 'X', 'X', '', '', '', '', '', '01', '', '', '', 'Europe/Paris', 1, 1,"
                    " true, '', false, :t, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO reasons (code, label, duration_minutes, discreet, documents,"
                    " position, active) VALUES ('otv', 'OTV', 30, false, '', 0, true)"
                )
            )
            remote = BOOKING.replace("status, name,", "status, mode, name,").replace(
                "'confirmed', 'A',", "'confirmed', 'phone', 'A',"
            )
            connection.execute(
                text(remote),
                {"ref": "TEL12345", "start": "2099-12-01 08:00:00", "end": "2099-12-01 09:00:00"},
            )
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error, then exits
            downgrade(revision="d4f9a6b7c8e0")
        assert "TEL12345" in capfd.readouterr().err
        with db.engine.connect() as connection:
            columns = {c["name"] for c in db.inspect(connection).get_columns("bookings")}
        assert "mode" in columns  # nothing was undone
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM bookings"))
            connection.execute(text("DELETE FROM reasons"))
            connection.execute(text("DELETE FROM units"))
        downgrade(revision="base")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from booking.extensions import db


def test_upgrade_from_empty_matches_the_models_and_downgrades(app: Flask) -> None:
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = db.inspect(connection).get_table_names()
        assert set(tables) <= {"alembic_version"}
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

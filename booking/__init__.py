"""Rendez-vous en gendarmerie: book an appointment at a gendarmerie unit."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, commands, error handlers."""
    # Imported here so that `booking.domain` stays importable without the framework.
    from booking import cli, config, database, keys, logs, metrics
    from booking.extensions import csrf, db, limiter, login_manager, migrate
    from booking.paths import ROOT
    from booking.services import orientation as orientation_tree
    from booking.services.bookings import predeclarations
    from booking.services.slots import cache as slot_cache
    from booking.web import (
        admission,
        api,
        assets,
        compression,
        edge,
        envelope,
        errors,
        journey,
        languages,
        manage,
        opendata,
        orientation,
        public,
        security,
        sessions,
        staff,
        statistics,
        statistics_data,
        templating,
        waitlist,
    )
    from booking.web.application import Application

    test_config = dict(test_config or {})
    app = Application(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=test_config.pop(
            "INSTANCE_PATH", os.environ.get("INSTANCE_PATH") or str(ROOT / "instance")
        ),
    )
    # Tests run in the testing environment, whatever the shell says.
    environ = None if not test_config else {**os.environ, "APP_ENV": "testing"}
    app.config.update(config.load_config(app.instance_path, environ))
    app.config.update(test_config)
    # Flask-WTF's tokens are signed with a key of their own (booking.keys).
    app.config["WTF_CSRF_SECRET_KEY"] = keys.derive(str(app.config["SECRET_KEY"]), "csrf")
    uri = config.database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(uri)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logs.configure(app.config["LOG_FORMAT"])
    for warning in config.startup_warnings(app.config):
        logging.getLogger("booking.config").warning(warning)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_item=database.render_item)
    database.init_app(app)
    slot_cache.init_app(app)
    predeclarations.init_app(app)
    orientation_tree.init_app(app)
    languages.init_app(app)
    csrf.init_app(app)
    app.before_request(security.check_forms)  # first, as Flask-WTF's own check would be
    csrf.exempt(api.bp)  # JSON API: no cookies, no session, nothing to forge
    login_manager.init_app(app)
    staff.init_app(app)  # ProConnect's client, when configured
    limiter.init_app(app)
    admission.init_app(app)
    blueprints = (
        admission,
        public,
        orientation,
        journey,
        waitlist,
        manage,
        api,
        opendata,
        statistics,
        statistics_data,
        staff,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)
    cli.init_app(app)
    errors.init_app(app)
    edge.init_app(app)
    templating.init_app(app)
    compression.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    metrics.init_app(app)
    assets.init_app(app)  # WhiteNoise wraps the app…
    envelope.init_app(app)  # …and the request id, headers, log line and metric wrap both
    return app

"""Flask extensions, created unbound and wired in create_app."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every model."""


# Loaded objects outlive a commit as they were read: a use case reads, ends its read
# transaction, then writes (see database.begin_write) without loading the same rows again.
# What a write decides on is read afresh under its lock (database.fresh).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()


class StaffLogins(LoginManager):  # type: ignore[misc]  # Flask-Login ships no types
    """Flask-Login, its after-request hook kept to the staff's pages, where agents sign in
    and out (and where a remember-me cookie would be set or cleared; none is ever set).

    The hook reads the session, and Flask marks a session read through the request as
    accessed, then adds `Vary: Cookie` to the answer: every public answer (the API, the open
    data, the health check) would be kept apart per cookie by shared caches. Registered on
    the staff blueprint's name, it is not even called for the other requests.
    """

    def init_app(self, app: Flask, add_context_processor: bool = True) -> None:
        super().init_app(app, add_context_processor)
        hook = self._update_remember_cookie
        app.after_request_funcs[None].remove(hook)
        app.after_request_funcs.setdefault("staff", []).append(hook)


login_manager = StaffLogins()
login_manager.login_view = "staff.login"
login_manager.login_message = "Connectez-vous pour accéder à l'espace des agents."
login_manager.login_message_category = "info"  # a prompt, not a success
login_manager.session_protection = "strong"
# Limits count per client address; RATELIMIT_STORAGE_URI (redis://…) shares them between
# processes, the default memory:// counts per process.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

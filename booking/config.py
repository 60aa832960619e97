"""Configuration: defaults in code, environment variables override them (SPEC §8)."""

from __future__ import annotations

import os
import secrets
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

from booking.keys import strong_enough

INTEGER_SETTINGS = {
    "BOOKING_MIN_NOTICE_MINUTES": 120,
    "BOOKING_HORIZON_DAYS": 28,
    "BOOKING_MAX_ACTIVE_PER_EMAIL": 2,
    "BOOKING_REMINDER_HOURS": 24,
    "PERSONAL_DATA_RETENTION_DAYS": 90,
    "AUDIT_RETENTION_DAYS": 365,  # the audit log, then purged
    "BOOKING_HOLD_MINUTES": 30,
    "WAITLIST_OFFER_MINUTES": 30,
    "WAITLIST_MAX_PER_EMAIL": 3,
    # BOOKING_CHALLENGE=auto asks for a proof of work above this many bookings a minute.
    "BOOKING_CHALLENGE_THRESHOLD": 60,
    # PBKDF2 iterations per try of the proof of work (about 256 tries): bench/bench_challenge.py
    # measures what a phone's browser takes; see docs/performance.md.
    "BOOKING_CHALLENGE_COST": 10_000,
    "SMTP_PORT": 25,
    # The waiting room (SPEC §16): booking journeys in flight at once, and how long an
    # admitted ticket keeps its place unused, a journey its place when quiet, and its right to
    # book in all.
    "ADMISSION_CAPACITY": 5000,
    "ADMISSION_CLAIM_SECONDS": 120,
    "ADMISSION_IDLE_SECONDS": 600,
    "ADMISSION_JOURNEY_SECONDS": 3600,
    # `auto`'s brake: when a node's answers take more than this (90th percentile of the last
    # two seconds), at most ADMISSION_SLOW_PER_SECOND journeys are admitted a second.
    "ADMISSION_LATENCY_MS": 250,
    "ADMISSION_SLOW_PER_SECOND": 20,
    # Staff sessions (SPEC §15): ended after this long without a request, and after this long
    # in all, whatever the activity.
    "STAFF_IDLE_MINUTES": 30,
    "STAFF_SESSION_HOURS": 12,
    # The largest request body accepted (413 beyond): a booking weighs under 2 kB.
    "MAX_CONTENT_LENGTH": 64 * 1024,
}
RATE_LIMITS = {
    # Per client address (and per email for bookings); Flask-Limiter's syntax.
    "RATE_LIMIT_SEARCH": "120 per minute",
    "RATE_LIMIT_BOOKING": "20 per minute;200 per hour",
    "RATE_LIMIT_BOOKING_EMAIL": "10 per hour",
    "RATE_LIMIT_CANCEL": "30 per minute",
    # Bookings without a waiting-room ticket, per address, while the waiting room is on.
    "ADMISSION_TICKETLESS": "5 per hour",
}
TEXT_SETTINGS = {
    "BASE_URL": "http://127.0.0.1:8000",
    "SMTP_HOST": "",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "MAIL_FROM": "Rendez-vous en gendarmerie <ne-pas-repondre@rendez-vous.invalid>",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Where the compressed, fingerprinted static files are built (default: build/static).
    "ASSETS_DIR": "",
    # Who runs the site (header, legal notice, accessibility statement). `|` breaks a line of
    # the administration's name, as the State's logo block sets it.
    "SITE_ADMINISTRATION": "Ministère|de l'Intérieur",
    "SITE_PUBLISHER": "",  # the administration that publishes the site, with its address
    "SITE_PUBLICATION_DIRECTOR": "",
    "SITE_HOST": "",  # who hosts it, with its address
    "SITE_CONTACT": "",  # an address for questions about the site and its accessibility
    # How staff passwords are hashed (werkzeug's method string): OWASP's scrypt parameters.
    "PASSWORD_HASH_METHOD": "scrypt:131072:8:1",
    # Where the quick exit of sensitive pages leads: a neutral site, in the same tab.
    "QUICK_EXIT_URL": "https://meteofrance.com/",
    # Video appointments' rooms (SPEC §12): a Jitsi-compatible base; a room is
    # `{VIDEO_ROOM_URL}/{secret name}`. By default the State's web conference service.
    "VIDEO_ROOM_URL": "https://webconf.numerique.gouv.fr",
    # ProConnect (SPEC §15), on when the three are set: the provider's issuer (its discovery
    # document is ISSUER/.well-known/openid-configuration), and this service's client.
    "PROCONNECT_ISSUER": "",
    "PROCONNECT_CLIENT_ID": "",
    "PROCONNECT_CLIENT_SECRET": "",
    "PROCONNECT_SCOPES": "openid email given_name usual_name",
    # The level asked for (ProConnect's eidas1); empty asks for none.
    "PROCONNECT_ACR_VALUES": "eidas1",
    # Email domains whose agents may sign in with ProConnect before an administrator made
    # their account: one is made for them, with no unit (see docs/staff-sign-in.md).
    "PROCONNECT_DOMAINS": "",
}
EXAMPLE_MAIL_FROM = TEXT_SETTINGS["MAIL_FROM"]


class ConfigurationError(RuntimeError):
    """The environment does not let the service start safely."""


def database_url(raw: str) -> str:
    """Select the psycopg 3 driver for the usual `postgresql://` and `postgres://` forms."""
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    """A yes/no setting: true, 1, yes, oui, or false, 0, no, non; the default otherwise."""
    raw = env.get(name, "").strip().lower()
    if raw in {"1", "true", "yes", "oui"}:
        return True
    if raw in {"0", "false", "no", "non"}:
        return False
    return default


def _refuse_unsafe(config: dict[str, Any]) -> None:
    """Outside development: no guessable SECRET_KEY, no SMTP password sent in clear."""
    if not strong_enough(config["SECRET_KEY"]):
        raise ConfigurationError(
            "SECRET_KEY est trop faible : il faut au moins 32 octets aléatoires, par exemple"
            ' 64 caractères hexadécimaux (python -c "import secrets;'
            ' print(secrets.token_hex(32))"). Il signe les sessions et dérive les liens'
            " envoyés : une clé devinable permettrait de les forger."
        )
    if config["SMTP_USER"] and not (config["SMTP_STARTTLS"] or config["SMTP_SSL"]):
        raise ConfigurationError(
            "SMTP_USER est donné sans TLS : le mot de passe partirait en clair. Indiquez"
            " SMTP_STARTTLS=true (port 587) ou SMTP_SSL=true (port 465)."
        )


def _admission(env: dict[str, str], config: dict[str, Any]) -> None:
    """The waiting room (SPEC §16): `auto` is on where the nodes share a Redis (its own
    ADMISSION_REDIS_URL, or the rate limits' RATELIMIT_STORAGE_URI), off otherwise; `on`
    without Redis keeps the line in the process (one node)."""
    config["ADMISSION"] = (env.get("ADMISSION") or "auto").strip().lower()
    if config["ADMISSION"] not in {"off", "on", "auto"}:
        raise ConfigurationError("ADMISSION vaut off, on ou auto")
    config["ADMISSION_PREFIX"] = env.get("ADMISSION_PREFIX") or "rdv:admission:"
    shared = config["RATELIMIT_STORAGE_URI"]
    config["ADMISSION_REDIS_URL"] = env.get("ADMISSION_REDIS_URL") or (
        shared if shared.startswith(("redis://", "rediss://")) else ""
    )
    if config["ADMISSION_CAPACITY"] < 1:
        raise ConfigurationError("ADMISSION_CAPACITY doit valoir au moins 1")


def _staff_sign_in(env: dict[str, str], config: dict[str, Any]) -> None:
    """ProConnect on or off, and whether passwords (with their second factor) still open the
    staff workspace: STAFF_PASSWORD_SIGN_IN=false keeps it to ProConnect."""
    names = ("PROCONNECT_ISSUER", "PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET")
    given = [name for name in names if config[name].strip()]
    if given and len(given) < len(names):
        missing = ", ".join(name for name in names if name not in given)
        raise ConfigurationError(f"ProConnect est à moitié configuré : il manque {missing}")
    config["PROCONNECT_ISSUER"] = config["PROCONNECT_ISSUER"].strip().rstrip("/")
    config["PROCONNECT_DOMAINS"] = config["PROCONNECT_DOMAINS"].replace(",", " ").lower().split()
    config["STAFF_PASSWORD_SIGN_IN"] = _flag(env, "STAFF_PASSWORD_SIGN_IN", True)
    if not config["STAFF_PASSWORD_SIGN_IN"] and len(given) < len(names):
        raise ConfigurationError(
            "STAFF_PASSWORD_SIGN_IN=false ne laisse que ProConnect, qui n'est pas configuré :"
            " personne ne pourrait se connecter à l'espace des agents."
        )
    for name in ("STAFF_IDLE_MINUTES", "STAFF_SESSION_HOURS"):
        if config[name] < 1:
            raise ConfigurationError(f"{name} doit valoir au moins 1")


def load_config(instance_path: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Every setting of the service, from the environment and the defaults."""
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("APP_ENV", "production")
    config: dict[str, Any] = {"APP_ENV": app_env}
    for name, default in INTEGER_SETTINGS.items():
        raw = env.get(name, "").strip()
        try:
            config[name] = int(raw) if raw else default
        except ValueError as error:
            raise ConfigurationError(f"{name} doit être un nombre entier, pas « {raw} »") from error
    for name, text in {**TEXT_SETTINGS, **RATE_LIMITS}.items():
        config[name] = env.get(name, text)
    config["TRUSTED_PROXIES"] = int(env.get("TRUSTED_PROXIES") or 0)
    # Benchmarks on loopback switch the limits off (RATELIMIT_ENABLED=false); nothing else should.
    config["RATELIMIT_ENABLED"] = _flag(env, "RATELIMIT_ENABLED", True)
    config["METRICS_ALLOWED_NETWORKS"] = env.get("METRICS_ALLOWED_NETWORKS", "").split()
    default_format = "text" if app_env in {"development", "testing"} else "json"
    config["LOG_FORMAT"] = env.get("LOG_FORMAT") or default_format
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    config["VIDEO_ROOM_URL"] = config["VIDEO_ROOM_URL"].rstrip("/")
    # A discreet booking's emails (SPEC §17) come from a neutral sender: by default the same
    # address under the name "Rendez-vous"; an address of its own is better (see deploy.md).
    config["MAIL_FROM_DISCREET"] = env.get("MAIL_FROM_DISCREET") or formataddr(
        ("Rendez-vous", parseaddr(config["MAIL_FROM"])[1])
    )
    try:
        config["JOBS_POLL_SECONDS"] = float(env.get("JOBS_POLL_SECONDS") or 5)
    except ValueError as error:
        raise ConfigurationError("JOBS_POLL_SECONDS doit être un nombre de secondes") from error
    config["SMTP_STARTTLS"] = _flag(env, "SMTP_STARTTLS", False)
    # SMTP over TLS from the first byte (port 465), rather than STARTTLS on a plain one.
    config["SMTP_SSL"] = _flag(env, "SMTP_SSL", False)
    # An anonymous booking holds its slot until confirmed from its email (SPEC §5: only the
    # address's owner learns whether it has room). On unless set false.
    config["BOOKING_EMAIL_VERIFICATION"] = _flag(env, "BOOKING_EMAIL_VERIFICATION", True)
    _staff_sign_in(env, config)
    _admission(env, config)
    # Fernet keys sealing the pre-declarations, newest first
    # (booking.services.bookings.predeclarations).
    config["PRE_DECLARATION_KEYS"] = env.get("PRE_DECLARATION_KEYS", "").replace(",", " ").split()
    config["BOOKING_CHALLENGE"] = (env.get("BOOKING_CHALLENGE") or "auto").strip().lower()
    if config["BOOKING_CHALLENGE"] not in {"off", "on", "auto"}:
        raise ConfigurationError("BOOKING_CHALLENGE vaut off, on ou auto")
    default_db = "sqlite:///" + str(Path(instance_path) / "booking.sqlite3")
    config["SQLALCHEMY_DATABASE_URI"] = database_url(env.get("DATABASE_URL") or default_db)
    config["SECRET_KEY"] = env.get("SECRET_KEY") or _development_secret(app_env, instance_path)
    if app_env not in {"development", "testing"}:
        _refuse_unsafe(config)

    config["JSON_SORT_KEYS"] = False
    # Session cookies: not readable by scripts, not sent cross-site, HTTPS-only behind HTTPS.
    secure = config["BASE_URL"].startswith("https://")
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SECURE"] = secure
    config["PERMANENT_SESSION_LIFETIME"] = config["STAFF_SESSION_HOURS"] * 3600
    config["RATELIMIT_HEADERS_ENABLED"] = True
    # Forms are checked by booking.web.security.check_forms, which asks the method first.
    config["WTF_CSRF_CHECK_DEFAULT"] = False
    return config


def startup_warnings(config: dict[str, Any]) -> list[str]:
    """What a production deployment left to its examples: the site runs, but says so."""
    if config["APP_ENV"] in {"development", "testing"}:
        return []
    found = []
    if not config["BOOKING_EMAIL_VERIFICATION"]:
        found.append(
            "BOOKING_EMAIL_VERIFICATION=false : une réservation est confirmée sans que l'adresse"
            " soit vérifiée, et sa réponse dit à qui tape une adresse qu'elle a déjà des"
            " rendez-vous (limite atteinte)."
        )
    if not config["SMTP_HOST"]:
        found.append(
            "SMTP_HOST n'est pas renseigné : AUCUN COURRIEL NE PART. Les confirmations et les"
            " rappels sont écrits en fichiers .eml dans le dossier de l'instance (emails/) ;"
            " ils contiennent des noms et des liens de gestion, et sont effacés après"
            " PERSONAL_DATA_RETENTION_DAYS jours."
        )
    if config["MAIL_FROM"] == EXAMPLE_MAIL_FROM or config["MAIL_FROM"].endswith(".invalid>"):
        found.append(
            "MAIL_FROM est l'adresse d'exemple : les courriels partiront d'une adresse"
            " qui n'existe pas (indiquez celle de l'administration qui exploite le site)."
        )
    for name, what in (
        ("SITE_PUBLISHER", "l'éditeur du site (mentions légales)"),
        ("SITE_CONTACT", "l'adresse de contact (déclaration d'accessibilité)"),
    ):
        if not config[name].strip():
            found.append(f"{name} n'est pas renseigné : {what} s'affiche « à renseigner ».")
    if config["ADMISSION"] == "on" and not config["ADMISSION_REDIS_URL"]:
        found.append(
            "ADMISSION=on sans Redis : chaque processus tient sa propre file d'attente. Indiquez"
            " ADMISSION_REDIS_URL (ou un RATELIMIT_STORAGE_URI redis://) partagé par les nœuds."
        )
    return found


def _development_secret(app_env: str, instance_path: str) -> str:
    """A secret kept in the instance folder, for development only; production must set one."""
    if app_env not in {"development", "testing"}:
        raise ConfigurationError(
            "SECRET_KEY est obligatoire hors développement"
            " (APP_ENV=development pour un poste local)"
        )
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()

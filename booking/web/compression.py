"""HTML pages compressed by the application itself (Flask-Compress): a page of slots is
23 kB as HTML and about 4 kB in Brotli, which a phone on a slow network feels. Static
files are compressed once, at build time (booking.web.assets); the JSON API and the open
data are left to the proxy or CDN (docs/deploy.md), so that their hot paths pay nothing.

Pages carry secrets (CSRF tokens, a manage link's token) and may echo what was typed: the
CSRF token is signed with a timestamp and changes every second, and a manage link's page
echoes nothing an attacker can choose, which keeps BREACH-style guessing out of reach.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

HTML_BLUEPRINTS = ("public", "orientation", "journey", "waitlist", "manage", "staff")
compress = Compress()


def init_app(app: Flask) -> None:
    """Compress the HTML answers of the pages' blueprints, Brotli first, then gzip."""
    app.config.setdefault("COMPRESS_REGISTER", False)  # not on every answer: pages only
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html"])
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", False)
    compress.init_app(app)
    for name in HTML_BLUEPRINTS:
        app.after_request_funcs.setdefault(name, []).append(compress.after_request)

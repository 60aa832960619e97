"""Addresses of the site as citizens reach it (BASE_URL), built from the URL map.

Emails are rendered by the job runner, outside any request: `url_for` cannot know the
public address there, so links are built against BASE_URL with the app's own routes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """`{BASE_URL}/…` of an endpoint, whether or not a request is being served."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def base_host() -> str:
    """The host of BASE_URL (calendar UIDs end with it)."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"

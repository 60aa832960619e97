"""Static files as a phone on a slow network needs them: compressed ahead of time (brotli,
gzip), under fingerprinted names cached for a year, served by WhiteNoise in front of the app.

`build` writes `static/` into the assets folder (`ASSETS_DIR`, default `build/static`): every
file under its own name and under a name carrying a digest of its content
(`dsfr/dsfr.min.3f2a9c0e1b7d.css`), the stylesheets' `url(…)` pointing at the fingerprinted
names, a `.br` and a `.gz` next to each file worth compressing, and `manifest.json` (names →
fingerprinted names, and the digest of the sources it was built from). `url_for('static',
filename=…)` gives the fingerprinted name. A stale or missing folder is rebuilt at start-up
by the first worker to take the folder's lock (the others wait for it, then read its
manifest); `flask assets build` does it at deploy time for a read-only installation.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from booking.paths import ROOT, STATIC

SOURCE = STATIC
MANIFEST = "manifest.json"
YEAR = 365 * 24 * 60 * 60
# What a name looks like once fingerprinted: 12 hex digits before the extension.
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^'"()\s]+))\s*\)""")
# Files under their plain name (a reference the build could not rewrite): an hour.
PLAIN_MAX_AGE = 3600
# Raised whenever the build itself changes (names, compression, rewriting): a folder built by
# another version of this code is then stale even if the sources are the same.
BUILD_VERSION = "2"


def init_app(app: Flask) -> None:
    """Build the assets if needed, serve them with WhiteNoise, fingerprint static URLs."""
    target = assets_dir(app.config.get("ASSETS_DIR", ""))
    names = ensure(SOURCE, target)
    app.extensions["assets"] = names

    @app.url_defaults
    def fingerprinted(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    app.wsgi_app = Static(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(target),
        prefix=app.static_url_path,
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=lambda _path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=_no_sniffing,
    )


def assets_dir(configured: str) -> Path:
    """Where the built assets live: ASSETS_DIR, or build/static in the project."""
    return Path(configured or ROOT / "build" / "static")


class Static(WhiteNoise):  # type: ignore[misc]
    """WhiteNoise, with a year (not its ten) for fingerprinted files."""

    def add_cache_headers(self, headers: Any, path: str, url: str) -> None:
        if self.immutable_file_test(path, url):
            headers["Cache-Control"] = f"max-age={YEAR}, public, immutable"
        else:
            super().add_cache_headers(headers, path, url)


def _no_sniffing(headers: Any, _path: str, _url: str) -> None:
    """The security header every answer of the app carries, static files included."""
    headers["X-Content-Type-Options"] = "nosniff"


def ensure(source: Path, target: Path) -> dict[str, str]:
    """The manifest of `target`, built again first if `source` changed since."""
    digest = sources_digest(source)
    names = _read(target, digest)
    if names is not None:
        return names
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        names = _read(target, digest)
        if names is None:
            names = build(source, target, digest)
    return names


def _read(target: Path, digest: str) -> dict[str, str] | None:
    """The names of a manifest built from sources of this digest, if there is one."""
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("sources") != digest:
        return None
    return dict(manifest["files"])


def sources_digest(source: Path) -> str:
    """A digest of every source file's name and content (read again only when a file's size
    or modification time changed: an app is created for every test)."""
    names = _files(source)
    stats = tuple((name, *_stat(source / name)) for name in names)
    known = _DIGESTS.get(source)
    if known is not None and known[0] == stats:
        return known[1]
    digest = hashlib.sha256(f"build {BUILD_VERSION}\0".encode())
    for name in names:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes() + b"\0")
    _DIGESTS[source] = (stats, digest.hexdigest())
    return digest.hexdigest()


_DIGESTS: dict[Path, tuple[tuple[tuple[str, int, int], ...], str]] = {}


def _stat(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns


def build(source: Path, target: Path, digest: str | None = None) -> dict[str, str]:
    """Write the assets into `target` and return its names → fingerprinted names.

    Files are replaced whole (written beside, then renamed), the manifest last, and files of
    earlier builds stay: a worker still running the previous release keeps finding the
    fingerprinted names its pages point at."""
    digest = digest or sources_digest(source)
    names: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    # Stylesheets last: their content, hence their digest, names the others' digests.
    for name in sorted(_files(source), key=lambda name: name.endswith(".css")):
        content = (source / name).read_bytes()
        if name.endswith(".css"):
            content = _rewrite_css(name, content.decode("utf-8"), names).encode("utf-8")
        names[name] = _fingerprint(name, content)
        variants = {"": content}
        if compressor.should_compress(name):
            variants.update(_compressed(content))
        for written in (names[name], name):
            for suffix, data in variants.items():
                _write(target / (written + suffix), data)
    manifest = {"sources": digest, "files": names}
    _write(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return names


def _compressed(content: bytes) -> dict[str, bytes]:
    """The `.br` and `.gz` variants worth keeping (a twentieth smaller at least)."""
    variants = {}
    for suffix, compress in ((".br", brotli.compress), (".gz", Compressor.compress_gzip)):
        data = compress(content)
        if len(data) <= 0.95 * len(content):
            variants[suffix] = data
    return variants


def _write(path: Path, data: bytes) -> None:
    """Replace a file whole: a reader sees the old content or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _files(source: Path) -> list[str]:
    """Every file under `source`, as sorted POSIX paths relative to it."""
    return sorted(path.relative_to(source).as_posix() for path in _walk(source))


def _walk(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            yield path


def _fingerprint(name: str, content: bytes) -> str:
    """`css/site.css` → `css/site.0123456789ab.css`."""
    stem, dot, extension = name.rpartition(".")
    if not dot or "/" in extension:
        stem, extension = name, ""
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{stem}.{digest}.{extension}" if extension else f"{stem}.{digest}"


def _rewrite_css(name: str, css: str, names: dict[str, str]) -> str:
    """Point the `url(…)` of a stylesheet at the fingerprinted names; leave alone data URIs,
    other origins, and files that are not there (a woff fallback that browsers never take)."""
    folder = posixpath.dirname(name)

    def replace(match: re.Match[str]) -> str:
        url = next(group for group in match.groups() if group is not None)
        if url.startswith(("data:", "http:", "https:", "//", "/", "#")):
            return match.group(0)
        path = re.split(r"[?#]", url, maxsplit=1)[0]
        resolved = posixpath.normpath(posixpath.join(folder, path))
        if resolved not in names:
            return match.group(0)
        relative = posixpath.relpath(names[resolved], folder or ".")
        return f'url("{relative}{url[len(path) :]}")'

    return CSS_URL.sub(replace, css)

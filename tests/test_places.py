"""Finding units from where one lives (SPEC §9), on the shipped gazetteer and units."""

from __future__ import annotations

import csv
import os
import random
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from booking import create_app
from booking.domain.places import PlaceEntry, PlaceIndex, place_key
from booking.extensions import db
from booking.models import Place, Unit
from booking.services.places.gazetteer import INDEX, load_places
from booking.services.places.nearby import POINTS, nearest, territory
from booking.services.places.search import UnitQuery, find_units
from booking.services.reasons import load_reasons
from booking.services.units.importing import import_units
from tests.support import place_forms
from tests.support.keys import SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]
COMMUNES = ROOT / "data" / "communes.csv"
ALWAYS_OPEN = {day: [(0, 1440)] for day in range(8)}
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def test_the_gazetteer_loads_and_reloads_on_each_database(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    first = runner.invoke(args=["places", "load"])
    assert first.exit_code == 0, first.output
    assert "Lieux chargés : 37510" in first.output
    smaller = tmp_path / "communes.csv"
    smaller.write_text("".join(COMMUNES.read_text(encoding="utf-8").splitlines(True)[:101]))
    again = runner.invoke(args=["places", "load", str(smaller)])
    assert "Lieux chargés : 100" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Place.id))) == 100  # replaced, not added


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One database with every place and every unit of the shipped data (loaded once per
    engine; on PostgreSQL, a database of its own, dropped at the end)."""
    folder = tmp_path_factory.mktemp("places")
    with world_database(request.param, folder) as uri:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": uri,
                "INSTANCE_PATH": str(folder / "instance"),
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
            load_reasons()
            load_places()
            import_units((ROOT / "data" / "units.csv").read_bytes())
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def world_database(engine: str, folder: Path) -> Iterator[str]:
    """A database for the world: a SQLite file, or a PostgreSQL database made for it."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'world.sqlite3'}"
        return
    server = os.environ["TEST_DATABASE_URL"]
    name = f"booking_world_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def visitor(world: Flask) -> FlaskClient:
    """A citizen's browser."""
    return world.test_client()


def page(visitor: FlaskClient, **query: str) -> str:
    """The home page for a search."""
    return visitor.get("/", query_string=query).get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "heading"),
    [
        ("orleans", "Les unités les plus proches d&#39;Orléans (45)"),
        ("45000", "Les unités les plus proches d&#39;Orléans (45)"),
        ("St Jean de Braye", "Les unités les plus proches de Saint-Jean-de-Braye (45)"),
        ("Saint-Cyr-en-Val", "Les unités les plus proches de Saint-Cyr-en-Val (45)"),
        ("01210", "Les unités les plus proches du code postal 01210"),
        ("havre", "Les unités les plus proches du Havre (76)"),
    ],
)
def test_a_place_typed_shows_its_nearest_units_with_their_next_slot(
    visitor: FlaskClient, typed: str, heading: str
) -> None:
    html = page(visitor, q=typed, motif="otv")
    assert heading in html
    distances = [float(km.replace(",", ".")) for km in re.findall(r"— à ([\d,]+) km", html)]
    assert len(distances) == 10
    assert distances == sorted(distances)  # nearest first
    assert distances[0] < 25
    assert html.count("Premier créneau libre (30 min)") == 10


def test_a_typo_offers_the_close_names_and_one_of_them_leads_to_units(visitor: FlaskClient) -> None:
    html = page(visitor, q="chesy")
    assert "Aucune commune ne s'appelle « chesy »" in html
    assert "Vouliez-vous dire" in html
    link = re.search(r'href="(/\?lieu=77111[^"]*)"', html)
    assert link, html
    chosen = visitor.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Les unités les plus proches de Chessy (77)" in chosen


def test_a_name_several_communes_share_asks_which_one(visitor: FlaskClient) -> None:
    html = page(visitor, q="Saint-Denis")
    assert "Plusieurs communes s'appellent « Saint-Denis »" in html
    assert "Saint-Denis (974)" in html
    assert "Saint-Denis (11)" in html
    assert 'class="results"' not in html or "unité trouvée" not in html


def test_nothing_found_still_offers_a_next_step(visitor: FlaskClient) -> None:
    html = page(visitor, q="zzzzqqq")
    assert "Aucune unité trouvée" in html
    assert "Autour de moi" in html
    assert "code postal" in html


def test_a_unit_name_still_finds_the_unit(visitor: FlaskClient) -> None:
    html = page(visitor, q="brigade de proximité de gex")
    assert "1 unité trouvée" in html


def test_a_commune_without_a_point_shows_the_units_of_its_territory(visitor: FlaskClient) -> None:
    html = page(visitor, q="Gambier")  # nobody places the Gambier islands: its territory's
    assert "Les unités les plus proches de Gambier (987)" in html
    body = visitor.get("/api/v1/units?q=Gambier&limit=20").json
    assert body["items"][0]["insee"] == "98719"  # the commune's own unit first
    assert body["items"][0]["distance_km"] is None  # no distance is known
    assert {item["department"] for item in body["items"]} == {"987"}
    tahiti = visitor.get("/api/v1/units?q=Papeete&limit=3").json  # placed by GeoNames
    assert tahiti["items"][0]["distance_km"] < 10


def test_the_reason_chosen_stays_on_the_unit_page_and_the_slots_page(
    visitor: FlaskClient,
) -> None:
    html = page(visitor, q="orleans", motif="otv")
    unit = re.search(r'href="(/unites/[^"?]+)\?motif=otv"', html)
    assert unit
    unit_page = visitor.get(unit.group(1) + "?motif=otv").get_data(as_text=True)
    assert "Opération Tranquillité Vacances" in unit_page
    assert "Voir tous les créneaux libres" in unit_page
    slots = f"{unit.group(1)}/creneaux?motif=otv"
    assert f'href="{slots}"' in unit_page
    back = visitor.get(slots).get_data(as_text=True)
    assert f'href="{unit.group(1)}?motif=otv"' in back


def test_the_places_api_suggests_as_one_types(visitor: FlaskClient) -> None:
    body = visitor.get("/api/v1/places?q=orl&limit=3").json
    assert [item["label"] for item in body["items"]] == [
        "Orléans (45)",
        "Orly (94)",
        "Orliénas (69)",
    ]
    first = body["items"][0]
    assert first["insee"] == "45234"
    assert first["postcodes"] == ["45000", "45100"]
    assert first["lat"] == pytest.approx(47.9, abs=0.05)
    assert visitor.get("/api/v1/places?q=o").json == {"items": []}
    assert visitor.get("/api/v1/places").status_code == 422


def test_the_units_api_resolves_a_place_and_ranks_by_distance(visitor: FlaskClient) -> None:
    body = visitor.get("/api/v1/units?q=45000&motif=otv&limit=5").json
    assert body["place"]["label"] == "Orléans (45)"
    distances = [item["distance_km"] for item in body["items"]]
    assert distances == sorted(distances)
    assert all(item["next_slot"] for item in body["items"])
    homonym = visitor.get("/api/v1/units?q=saint-denis&limit=1").json
    assert homonym["items"] == []
    assert homonym["place"] is None
    assert [p["label"] for p in homonym["places"]][:2] == ["Saint-Denis (974)", "Saint-Denis (93)"]
    chosen = visitor.get("/api/v1/units?q=Saint-Denis (974)&limit=3").json
    assert chosen["place"]["label"] == "Saint-Denis (974)"
    assert {item["department"] for item in chosen["items"]} == {"974"}


def every_place() -> list[dict[str, str]]:
    """The gazetteer's rows."""
    with COMMUNES.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_commune_name_and_every_postcode_finds_units_nearest_first(world: Flask) -> None:
    """Typed as a citizen would (the name, or the postcode), each place of a département that
    has units resolves to itself (or to a choice that lists it), and its nearest active
    units come nearest first: no one lands on "Aucune unité trouvée"."""
    rows = every_place()
    with world.app_context():
        index = INDEX.get()
        served = Counter(db.session.scalars(select(Unit.department).where(Unit.active.is_(True))))
        located = set(
            db.session.scalars(
                select(Unit.department).where(Unit.active.is_(True), Unit.latitude.is_not(None))
            )
        )
        missed: list[str] = []
        for row in rows:
            if row["department"] not in served:
                continue
            found = index.resolve(row["name"])
            meant = [found.place] if found.place else found.choices
            if not any(place_key(entry.name) == place_key(row["name"]) for entry in meant):
                missed.append(f"{row['name']} ({row['department']}): {found}")
                continue
            entry = index.resolve(f"{row['name']} ({row['department']})").place
            assert entry is not None, row
            if entry.point is not None and row["department"] in located:
                assert_nearest_first(entry.point, row)
        for postcode in sorted({code for row in rows for code in row["postcodes"].split()}):
            resolution = index.resolve(postcode)
            assert resolution.place is not None, postcode
            if resolution.point is not None:
                assert_nearest_first(resolution.point, postcode)
    assert missed == []


def assert_nearest_first(point: tuple[float, float], what: Any) -> None:
    """Some active units around the point, nearest first."""
    page, total = nearest(point, 5)
    assert total > 0, what
    assert [km for _, km in page] == sorted(km for _, km in page), what


@pytest.fixture
def small_world(app: Flask, create_unit: Callable[..., Unit]) -> None:
    """Two units, and the gazetteer, on the test's database (both engines)."""
    create_unit(public_id="ORLEANS", latitude=47.90, longitude=1.91, hours=ALWAYS_OPEN)
    create_unit(public_id="GEX", latitude=46.33, longitude=6.06, hours=ALWAYS_OPEN)
    create_unit(  # as in the dataset: no coordinates for Martinique's units
        public_id="LAMENTIN",
        insee="97213",
        postcode="97232",
        department="972",
        latitude=None,
        longitude=None,
        hours=ALWAYS_OPEN,
    )
    create_unit(public_id="BASSE-TERRE", department="971", latitude=16.0, longitude=-61.73)
    with app.app_context():
        load_places()


@pytest.mark.usefixtures("small_world")
def test_a_place_search_works_on_each_database(client: FlaskClient) -> None:
    body = client.get("/api/v1/units?q=St Jean de Braye").json
    assert body["place"]["label"] == "Saint-Jean-de-Braye (45)"
    assert [item["id"] for item in body["items"]] == ["ORLEANS", "GEX"]  # not across the sea
    assert body["items"][0]["distance_km"] < 10
    for typed in ("45000 Orléans", "Orléans 45000", "12 rue de la République 45000 ORLEANS"):
        understood = client.get("/api/v1/units", query_string={"q": typed}).json
        assert understood["place"]["label"] == "Orléans (45)", typed
        assert understood["items"][0]["id"] == "ORLEANS"


@pytest.mark.usefixtures("small_world")
def test_a_unit_without_coordinates_gets_its_communes_point_on_each_database(
    client: FlaskClient,
) -> None:
    body = client.get("/api/v1/units?q=97200").json  # Fort-de-France
    assert body["place"]["label"] == "Fort-de-France (972)"
    assert [item["id"] for item in body["items"]] == ["LAMENTIN"]  # not Guadeloupe's
    lamentin = body["items"][0]
    assert lamentin["approximate_location"] is True
    assert (lamentin["lat"], lamentin["lon"]) == (14.61745, -61.00145)  # its town hall
    assert 7 < lamentin["distance_km"] < 8
    exported = client.get("/opendata/units.csv").get_data(as_text=True)
    row = next(line for line in exported.splitlines() if line.startswith("LAMENTIN;"))
    assert "14.61745" not in row  # the export keeps what was imported
    assert client.get("/api/v1/units/ORLEANS").json["approximate_location"] is False
    page = client.get("/unites/LAMENTIN").get_data(as_text=True)
    assert "Position approximative" in page


@pytest.mark.usefixtures("small_world")
def test_paris_says_it_is_police_territory(client: FlaskClient) -> None:
    body = client.get("/api/v1/units?q=PARIS 15").json
    assert body["place"]["label"] == "Paris 15e Arrondissement (75)"
    assert body["police_territory"] is True
    assert body["items"]  # the nearest units all the same
    html = client.get("/", query_string={"q": "75015"}).get_data(as_text=True)
    assert "c'est la police nationale qui vous reçoit" in html
    assert "pre-plainte-en-ligne.gouv.fr" in html
    assert client.get("/api/v1/units?q=Gex").json["police_territory"] is False  # 01


@pytest.mark.usefixtures("small_world")
def test_a_pair_that_does_not_go_together_is_told(client: FlaskClient) -> None:
    body = client.get("/api/v1/units?q=Trucmuche 45000").json
    assert body["note"] == "« Trucmuche » n'est pas une commune du code postal 45000."
    assert body["place"]["label"] == "Orléans (45)"
    close = client.get("/api/v1/units", query_string={"q": "Orleansss 75999"}).json
    assert close["note"] == "Le code postal 75999 n'est pas celui de « Orleansss »."
    assert "Orléans (45)" in [place["label"] for place in close["places"]]  # the note kept
    html = client.get("/", query_string={"q": "Trucmuche 45999"}).get_data(as_text=True)
    assert "Ni « Trucmuche » ni le code postal 45999" in html
    assert "Aucune unité trouvée" in html


TARGETS = {  # issue "Find my unit whatever I type": share of communes led to their units
    "name": 99.0,
    "plain": 99.0,
    "St": 98.0,
    "La Poste": 98.0,
    "name+postcode": 99.0,
    "postcode+name": 99.0,
    "typo": 90.0,
}


def served_communes(index: PlaceIndex) -> list[PlaceEntry]:
    """The communes of the départements that have units."""
    served = set(db.session.scalars(select(Unit.department).where(Unit.active.is_(True))))
    return [e for e in index.entries if e.kind == "commune" and e.department in served]


def test_every_commune_written_every_way_leads_to_its_units(world: Flask) -> None:
    """Every commune of a département with units, written as people write it (its name,
    plain, St/Ste, La Poste's spelling, with its postcode before or after), leads to a first
    unit within 50 km or to a choice that lists it; with a typo, a sample of 3,000 (the
    bench measures them all)."""
    with world.app_context():
        index = INDEX.get()
        communes = served_communes(index)
        first = place_forms.first_unit_finder()
        tallies = place_forms.coverage(index, communes, first, set(TARGETS) - {"typo"})
        sample = random.Random(7).sample(communes, 3000)
        tallies |= place_forms.coverage(index, sample, first, {"typo"})
        postcodes = place_forms.postcode_coverage(index, communes, first)
    for form, target in TARGETS.items():
        tally = tallies[form]
        assert tally.share >= target, (form, tally.share, tally.missed)
    assert tallies["name+postcode"].alone == tallies["name+postcode"].led  # never a choice
    assert postcodes.share >= 99.5, (postcodes.share, postcodes.missed)


def test_overseas_and_corsica_first_units_are_their_own_and_every_unit_has_a_point(
    world: Flask,
) -> None:
    with world.app_context():
        index = INDEX.get()
        units = POINTS.get()
        active = db.session.scalar(select(func.count(Unit.id)).where(Unit.active.is_(True)))
        assert len(units.ids) == active  # every unit has a point…
        located = db.session.scalar(
            select(func.count(Unit.id)).where(Unit.active.is_(True), Unit.latitude.is_not(None))
        )
        assert len(units.approximate) == active - located  # …approximate where none was given
        faraway = [e for e in served_communes(index) if territory(e.department) != "metropole"]
        assert len(faraway) > 500
        wrong = []
        for entry in faraway:
            for query in (entry.label, f"{entry.postcodes[0]} {entry.name}"):
                found = find_units(UnitQuery(query, limit=1), None)
                first = found.results.items[0].unit if found.results.items else None
                if first is None or territory(first.department) != territory(entry.department):
                    wrong.append((query, first and first.public_id))
        assert wrong == []


@pytest.mark.parametrize(
    ("typed", "place", "offered"),
    [
        ("Maresille", None, "Marseille (13)"),  # as close to Maresville: asked, not guessed
        ("Piare", None, "Pirae (987)"),  # never a village across the sea on a guess
        ("Seine-Saint-Denis", None, None),  # a département is no village
        ("13013 Marseille", "Marseille 13e Arrondissement (13)", None),
        ("47700 La Réunion", "La Réunion (47)", None),  # the commune, not the island
        ("3 rue de la Gare, 47700 LA RÉUNION", "La Réunion (47)", None),
        ("44 000 Nantes", "Nantes (44)", None),
        ("Orléans France", "Orléans (45)", None),
        ("Fort de France", "Fort-de-France (972)", None),
    ],
)
def test_what_a_review_typed(
    world: Flask, typed: str, place: str | None, offered: str | None
) -> None:
    with world.app_context():
        found = INDEX.get().resolve(typed)
    assert (found.place.label if found.place else None) == place, found
    if offered:
        assert offered in [choice.label for choice in found.choices]


def test_a_unit_only_its_territory_places_shows_no_distance_and_no_map(
    visitor: FlaskClient,
) -> None:
    with visitor.application.app_context():
        coarse = POINTS.get().coarse  # units whose commune nothing places (Polynesia…)
        polynesian = db.session.scalars(
            select(Unit.public_id).where(Unit.id.in_(coarse), Unit.department == "987")
        ).first()
    assert polynesian is not None
    around = visitor.get("/api/v1/units", query_string={"q": "Papeete", "limit": 50}).json
    [item] = [item for item in around["items"] if item["id"] == polynesian]  # its territory's
    assert item["distance_km"] is None  # a distance from the territory's middle would mislead
    assert item["approximate_location"] is True
    page = visitor.get(f"/unites/{polynesian}").get_data(as_text=True)
    assert "Position non connue" in page
    assert "openstreetmap" not in page

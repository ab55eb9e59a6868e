# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run

.PHONY: run test install install-test browser fonts db clean translations

run: install fonts db
	$(FLASK) run --host 127.0.0.1 --port 5000

# Upgrades an existing database in place; creates it on first run.
db: install
	$(FLASK) db upgrade
	$(FLASK) init --demo

test: install-test browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Headless Chromium for the browser tests, from Debian's packages when missing.
browser:
	@bash scripts/ensure-browser.sh

# A font with Chinese glyphs for the PDF forms, from Debian's packages when missing.
fonts:
	@bash scripts/ensure-fonts.sh

# Performance benchmark (bench/README.md): the app next to a plain FAB list on
# SQLite and PostgreSQL (127.0.0.1:5432, user postgres, or BENCH_POSTGRES_URL).
.PHONY: bench bench-full load install-bench

bench: install-bench
	$(BIN)/python bench/run.py --rows 100000 --audit-entries 200000

bench-full: install-bench
	$(BIN)/python bench/run.py --rows 1000000 --audit-entries 1000000 --samples 20 --warmup 3 --per-client 8 --decisions 30 --write-rows 500

# A 60 s load run: several roles at once against 4 gunicorn workers on PostgreSQL.
load: install-bench
	$(BIN)/python bench/load.py

$(VENV)/.installed-bench: bench/requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	touch $@

install-bench: $(VENV)/.installed-bench

clean:
	rm -rf $(VENV) .pytest_cache

# Refresh the catalogue from the code; then translate the new entries in
# translations/zh/LC_MESSAGES/messages.po.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l zh --no-fuzzy-matching --omit-header

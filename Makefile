# Two commands: `make run` serves the demo site, `make test` runs the whole suite (`make serve-prod`
# runs the production shape on this machine; `make manage cmd="..."` runs a management command
# against the site `make run` serves).
# Both create the virtual environment on first use and reinstall when pyproject.toml changes.

VENV := .venv
PY := $(VENV)/bin/python
# pyenv resolves `python3` through .python-version (3.13); on a laptop any Python >= 3.12 will do.
PYTHON ?= $(shell for p in python3.13 python3 python3.12; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_QUIET := --quiet --disable-pip-version-check

export DJANGO_DEBUG ?= 1

# Compiled catalogues are committed, so a machine without gettext still runs; where msgfmt exists we
# rebuild them so an edited .po file takes effect at once.
COMPILEMESSAGES = @if command -v msgfmt >/dev/null 2>&1; then \
	$(PY) manage.py compilemessages --ignore=$(VENV) -v 0; fi

.PHONY: run manage serve-prod test lint typecheck format bench bench-listing bench-pretix bench-scale bench-scanner screenshots install install-test clean

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (3.13 preferred)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_QUIET) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install $(PIP_QUIET) -e ".[test]"
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Links in e-mails (sent by the worker, which has no request) point at the port served here.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_local_organiser
	$(COMPILEMESSAGES)
	$(PY) manage.py serve_local --host $(HOST) --port $(PORT)

# A management command against the local site, in the environment `make run` gives it (DJANGO_DEBUG,
# SITE_URL, the SQLite file under var/): `make manage cmd="create_api_token organisator"`. Without
# DJANGO_DEBUG the settings want production's SECRET_KEY and refuse. Without cmd: the command list.
manage: export SITE_URL ?= http://$(HOST):$(PORT)
manage: install
	$(PY) manage.py $(cmd)

# The production shape on this machine (jubileum/serve_prod.py; README, "Productie"): DEBUG off,
# PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) on loopback, static files collected, migrations
# applied, gunicorn with WEB_CONCURRENCY workers (jubileum/gunicorn.conf.py) and the task worker
# beside it. Stop with Ctrl+C.
serve-prod: install
	$(PY) -m jubileum.serve_prod --host $(HOST) --port $(PORT)

test: install-test
	$(COMPILEMESSAGES)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# mypy with django-stubs on the service modules ([tool.mypy] in pyproject.toml lists them).
typecheck: install-test
	$(VENV)/bin/mypy

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Timings, not tests (bench/README.md). `make bench`: the production-shape benchmarks (gunicorn on
# a throwaway PostgreSQL database, Redis when it answers; a few minutes), into bench/RESULTS.md.
# `make bench-listing`: the listing page and the activities API, in process on SQLite.
# `make bench-pretix`: our redeem and pretix's on the same machine, one after the other.
bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

bench-listing: install
	$(PY) bench/listing.py $(BENCH_ARGS)

# The organiser's pages, exports and the scan manifest at three sizes of data (S: the demo, M, L),
# each in its own PostgreSQL database: `make bench-scale BENCH_ARGS="--sizes S,M --write"`.
bench-scale: install
	$(PY) bench/scale.py $(BENCH_ARGS)

# The scanner page in Chromium with a fake camera: cold start, ticket to paint, the brisk queue and
# idle CPU, at 1x, 4x CPU and on a slow connection (eleven minutes or so; BENCH_ARGS="--quick" for
# 1x only): `make bench-scanner BENCH_ARGS="--write"` puts it into its own section of RESULTS.md.
bench-scanner: install
	$(PY) bench/scanner_field.py $(BENCH_ARGS)

# The same scans against pretix, installed into var/bench-pretix (bench/README.md).
bench-pretix: install
	$(PY) bench/peers/pretix_checkin.py $(BENCH_ARGS)

# The README's pictures (docs/screenshots/), taken in Chromium from the demo data.
screenshots: install-test
	$(COMPILEMESSAGES)
	$(PY) -m pytest -q -p no:cacheprovider tests/e2e/readme_screenshots.py

clean:
	rm -rf $(VENV) var

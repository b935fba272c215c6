# OrderDesk — build, run and test.
#
#   make run        web app + Celery worker + beat on SQLite and the embedded broker
#   make test       ruff, Django checks, migration check, pytest
#   make setup      venv, migrate, demo data, static files
#
# Every variable can be overridden: `make run PORT=8080`, `make test PYTEST_ARGS="-k order -x"`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
PYTEST_ARGS ?=

export PORT

.PHONY: help venv setup run test lint fmt clean benchmark

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --- virtualenv -----------------------------------------------------------------
$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (when they changed)

# --- local run --------------------------------------------------------------------
# The local run is a development run: DEBUG on (unless set), so the development SECRET_KEY
# is allowed; with DEBUG=false a real SECRET_KEY is required (orderdesk/settings_checks.py).
setup run: export DEBUG ?= true
setup: venv ## Migrate the database, seed the demo data, collect static files
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v 0

run: setup ## Run web (PORT, default 8000), Celery worker and beat; Ctrl-C stops all
	@bash scripts/run.sh

# --- quality ----------------------------------------------------------------------
# Tests run against whatever DATABASE_URL / CELERY_BROKER_URL the environment holds
# (PostgreSQL and Redis in CI via .ci/run, SQLite and the embedded broker if unset).
# make reports any failure as status 2; PYTEST_STATUS_FILE, if set, receives pytest's own status.
test: export CELERY_TASK_ALWAYS_EAGER = true
test: export DEBUG = false
# DEBUG off refuses a missing SECRET_KEY: the checks get a random one unless one is set
# (pytest's orderdesk.test_settings makes its own the same way).
test: export SECRET_KEY ?= $(shell $(PYTHON) -c 'import secrets; print("test-" + secrets.token_urlsafe(50))')
test: venv ## Lint, Django system check, migration check, pytest
	$(BIN)/ruff check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	@echo "$(BIN)/pytest $(PYTEST_ARGS)"; $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ -n "$$PYTEST_STATUS_FILE" ]; then echo $$rc > "$$PYTEST_STATUS_FILE"; fi; exit $$rc

lint: venv ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmark (issue 14) runs OrderDesk and the bare DRF app of benchmarks/bare under gunicorn with DEBUG
# off, on whatever DATABASE_URL holds (PostgreSQL is what it is meant for). BENCH_ARGS: e.g. "--quick"
# (10k orders, a 100k scan) or "--sections http --orders 100000 --rounds 5 --duration 10".
benchmark: export DEBUG = false
benchmark: export SECURE_SSL_REDIRECT ?= false
benchmark: export SECRET_KEY ?= $(shell $(PYTHON) -c 'import secrets; print("bench-" + secrets.token_urlsafe(50))')
BENCH_ARGS ?=
benchmark: venv ## Benchmark against a bare DRF endpoint: ratios and query counts (BENCH_ARGS="--quick")
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 2; }
	$(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=benchmarks.bare.settings $(PY) -m django migrate bare --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py benchmark $(BENCH_ARGS)

clean: ## Remove the venv, local database, runtime files and caches
	rm -rf $(VENV) var staticfiles media test-results .pytest_cache .ruff_cache
	rm -f db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

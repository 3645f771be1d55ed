# Everything installs from a bare Python 3.11: uv is bootstrapped into .tools/, then
# `uv sync --frozen` builds .venv from uv.lock (the workspace's pinned dependencies).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
# Every package's sources (libs/*, gateway, launcher, *-service): a new service is found here.
SOURCES := $(wildcard libs/*/src */src)
empty :=
space := $(empty) $(empty)

.PHONY: install browser run up test lint typecheck pytest bench bench-tools load soak fuzz chaos clean migration openapi

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml libs/*/pyproject.toml
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

## The dashboard's browser tests drive the machine's Chromium (Debian's chromium package, with
## CJK fonts for the Chinese screens); installs only what is missing (apt-get, as root or sudo).
browser:
	scripts/install-browser.sh

## Embedded mode: every service in one process, SQLite files in ./data, demo data seeded;
## prints a demo admin (email / password) and a demo partner API key, new on every start.
run: install
	$(BIN)/hotel-platform run

## Distributed mode: one process per service, PostgreSQL and RabbitMQ from the environment.
## Replicas: `REPLICAS=2 make up` (every service) or e.g. `RESERVATION_REPLICAS=3 make up`;
## replica i of a service listens on its port + 100*i (8001, 8101, ...).
## INTERNAL_SECRET and TOKEN_SECRET are drawn per run unless set; the first admin comes from
## BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD; the gateway's database is hotel_gateway.
up: install
	$(BIN)/hotel-platform up

test: install browser lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	MYPYPATH=$(subst $(space),:,$(SOURCES)) $(BIN)/mypy $(SOURCES) bench

## The tests in PYTEST_WORKERS processes (pytest-xdist), a whole file to one worker (its
## module fixtures start once); every database, queue namespace, port and data folder is the
## test's own (only tests/test_make_up.py takes fixed ports, 8000-8104: one file, one worker).
## PYTEST_WORKERS=0 runs them in this one process. Files are handed out in the order the root
## conftest.py gives them (longest first, --no-loadscope-reorder): no long file left for last.
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

## Every benchmark, bounded (about 16 min): figures in docs/performance.md. One with a profile:
## `.venv/bin/python bench/distributed.py --profile reservation-service` (py-spy, bench/out/).
bench: install bench-tools
	$(BIN)/python bench/run.py

## The mixed load (searches, bookings with pickups, cancellations, reads) through the gateway in
## distributed mode, stepped up until p99 or errors break: the knee and what saturates first.
load: install
	$(BIN)/python bench/stepload.py

## The mixed load at a steady rate for 10 minutes: RSS, queue depths, latency each minute.
soak: install
	$(BIN)/python bench/soak.py --minutes 10

## wrk and nginx (Debian packages) for bench/gateway_auth.py; installs only what is missing.
bench-tools:
	scripts/install-bench-tools.sh

## schemathesis through the gateway as every identity kind, longer than the suite's bounded run
## (HOTEL_FUZZ_EXAMPLES per operation and mode; HOTEL_FUZZ_KINDS=partner_a,... narrows the callers).
fuzz: install
	HOTEL_FUZZ_EXAMPLES=$${HOTEL_FUZZ_EXAMPLES:-25} $(BIN)/python -m pytest -q tests/test_fuzz.py

## The broker cut for 30 s under steady bookings, two processes per service (a few minutes).
chaos: install
	$(BIN)/python tests/chaos.py

## Release the merged API document to openapi/released.json (openapi/README.md): refused if it
## breaks the released one unless gateway.openapi.API_VERSION's major was raised.
openapi: install
	$(BIN)/hotel-platform openapi

## New Alembic revision for a service: make migration SERVICE=reservation MSG="add rate plans"
migration: install
	$(BIN)/python -m hotel_common.migrations $(SERVICE)-service/src/$(SERVICE)_service/migrations "$(MSG)"

clean:
	rm -rf $(VENV) $(TOOLS) data .pytest_cache .mypy_cache .ruff_cache

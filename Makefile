# Everything installs from a bare Python 3.11: uv is bootstrapped into .tools/, then
# `uv sync --frozen` builds .venv from uv.lock (the workspace's pinned dependencies).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run up test lint typecheck pytest bench clean migration

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml libs/*/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

## Embedded mode: every service in one process, SQLite files in ./data, demo data seeded.
run: install
	$(BIN)/hotel-platform run

## Distributed mode: one process per service, PostgreSQL and RabbitMQ from the environment.
up: install
	$(BIN)/hotel-platform up

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy libs/hotel-common/src gateway/src reservation-service/src transfer-service/src guest-service/src notification-service/src bench

pytest: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py

## New Alembic revision for a service: make migration SERVICE=reservation MSG="add rate plans"
migration: install
	$(BIN)/python -m hotel_common.migrations $(SERVICE)-service/src/$(SERVICE)_service/migrations "$(MSG)"

clean:
	rm -rf $(VENV) $(TOOLS) data .pytest_cache .mypy_cache .ruff_cache

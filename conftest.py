"""Root conftest: import the installed `gateway` and `launcher` packages before pytest's
importlib mode can mistake the top-level folders of those names for namespace packages.

A service started on a new SQLite file starts from a copy of one that its migrations built
earlier in this process (see `_start_from_template`): the same schema, without replaying every
revision for every test. And the collected files are ordered longest first, for the two
workers of `make pytest` (see `pytest_collection_modifyitems`).
"""

import shutil
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import gateway.identity.store
import gateway.main
import hotel_common.service
import pytest
from hotel_common import db, migrations
from sqlalchemy.engine import make_url

import launcher  # noqa: F401

# A service's lifespan migrates its database first (the shared history, then its own): on a new
# SQLite file that replays every revision, ~0.3-0.9 s per service on this machine, for each of
# the thousands of service starts in the suite. Here the first start of a service in a worker
# migrates a template file once, and every later start on a new file begins from a copy of it:
# byte for byte what the migrations make, and the lifespan still runs `migrations.upgrade`
# (at head, a no-op). Only the services' own histories, only a file that does not exist yet:
# PostgreSQL, a file put at an old revision by a migration test, a toy service's history of a
# test, and every child process migrate as before; the migration tests and every PostgreSQL
# test keep running the revisions themselves.
_SERVICE_MIGRATIONS = {
    ep.load().migrations_dir.resolve() for ep in entry_points(group="hotel.services")
} | {gateway.identity.store.MIGRATIONS.resolve()}  # the gateway's identity store
_templates: dict[Path, Path] = {}
_template_dir: list[Path] = []
_original_start = hotel_common.service.start


async def _template_for(migrations_dir: Path) -> Path:
    if migrations_dir not in _templates:
        if not _template_dir:
            _template_dir.append(Path(tempfile.mkdtemp(prefix="migrated-")))
        path = _template_dir[0] / f"{len(_templates)}.db"
        engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(migrations.upgrade, migrations_dir)
        finally:
            await engine.dispose()  # the last connection closed: the WAL is folded in
        _templates[migrations_dir] = path
    return _templates[migrations_dir]


def _new_service_file(database_url: str, migrations_dir: Path) -> tuple[Path, Path] | None:
    """The SQLite file a service is about to create and its history (resolved), if the history
    is a service's."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    target, history = Path(str(url.database)), migrations_dir.resolve()
    if history not in _SERVICE_MIGRATIONS or not target.parent.is_dir() or target.exists():
        return None
    return target, history


async def _start_from_template(app: Any, spec: Any, settings: Any, broker: Any, stack: Any) -> Any:
    new = _new_service_file(settings.database_url, Path(spec.migrations_dir))
    if new is not None:
        shutil.copyfile(await _template_for(new[1]), new[0])
    return await _original_start(app, spec, settings, broker, stack)


hotel_common.service.start = _start_from_template
gateway.main.start = _start_from_template  # imported by name there


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _template_dir:
        shutil.rmtree(folder, ignore_errors=True)


# `make pytest` runs files on two workers (`--dist loadfile --no-loadscope-reorder`): a file is
# one unit of work, handed out in collection order to whichever worker is free, so a long file
# handed out last keeps one worker busy alone at the end. pytest-xdist's own order (most tests
# first) put last the files of a few long scenarios (distributed journeys, crashed processes).
# Here files go longest first: a file weighs its tests at SECONDS_PER_TEST each, or its
# measured seconds in SLOW_FILES if more; ties keep collection order, a file's tests theirs.
SECONDS_PER_TEST = 0.15
# Seconds a file took alone (one process, 2-core machine, load 4-8), measured 2026-12-02: the
# files worth more than their test count says. A stale entry only costs balance, not a result.
SLOW_FILES: dict[str, float] = {
    "tests/test_access_matrix.py": 394,
    "tests/test_merge_and_redeem_journey.py": 231,
    "tests/test_faults.py": 139,
    "tests/test_crashes.py": 88,
    "tests/test_tenants.py": 83,
    "tests/test_schema_drift.py": 45,
    "tests/test_make_up.py": 38,
    "tests/test_journey.py": 30,
    "tests/test_adv_erasure.py": 28,
    "tests/test_bounds.py": 28,
    "tests/test_idempotency.py": 25,
    "tests/test_guest_rights.py": 25,
    "tests/test_guest_profiles.py": 20,
    # Issue 22's browser tests: each file starts its own platform (about 10 s) and Chromium.
    "tests/dashboard/test_every_page.py": 70,
    "tests/dashboard/test_journey.py": 60,
    "tests/dashboard/test_reservations.py": 60,
    "tests/test_dashboard_races.py": 60,
    "tests/test_dashboard_modes.py": 50,
    "tests/dashboard/test_today.py": 50,
    "tests/dashboard/test_guests.py": 50,
    "tests/dashboard/test_complaints.py": 50,
    "tests/dashboard/test_analytics.py": 45,
    "tests/dashboard/test_dispatch.py": 40,
    "tests/dashboard/test_rooms.py": 40,
}


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    counts: dict[str, int] = {}
    for item in items:
        counts[_file_of(item)] = counts.get(_file_of(item), 0) + 1
    first_seen = {path: index for index, path in enumerate(counts)}

    def weight(path: str) -> float:
        return max(SLOW_FILES.get(path, 0.0), counts[path] * SECONDS_PER_TEST)

    items.sort(key=lambda item: (-weight(_file_of(item)), first_seen[_file_of(item)]))

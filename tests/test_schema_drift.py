"""The models and the migrations agree, for every service in the registry, on SQLite and
PostgreSQL: a model change without its revision fails here (docs/recipes.md). Every service is
imported in this process (one SQLModel.metadata for all, as in embedded mode), so each history
must also own its own tables only."""

import importlib
from pathlib import Path

import pytest
from gateway.registry import SERVICES
from hotel_common.migrations import COMMON_OWNER, drift, owned_tables
from hotel_common.testing import scratch_url

PACKAGES = [service.package for service in SERVICES]


def migrations_dir(package: str) -> Path:
    spec = importlib.import_module(f"{package}.main").SPEC  # its models load with it
    return Path(spec.migrations_dir)


def test_every_table_belongs_to_one_history() -> None:
    for package in PACKAGES:
        migrations_dir(package)
    owned = {owner: {t.name for t in owned_tables(owner)} for owner in [*PACKAGES, COMMON_OWNER]}
    assert all(owned.values()), owned
    names = [name for tables in owned.values() for name in tables]
    assert len(names) == len(set(names)), owned


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
@pytest.mark.parametrize("package", PACKAGES)
async def test_the_migrations_at_head_match_the_models(
    package: str, db: str, tmp_path: Path
) -> None:
    url = scratch_url(db, tmp_path, "drift")
    assert await drift(url, migrations_dir(package), package) == []

"""Migrations: a history owns the tables its package defines (no list to keep), the shared
tables have one history of their own that adopts a database made before it, and a model
changed without a revision shows as a difference."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hotel_common.db import drop_database, ensure_database
from hotel_common.migrations import (
    COMMON_OWNER,
    autogenerate,
    drift,
    owned_tables,
    schema_diff,
    upgrade,
)
from hotel_common.service import ServiceSpec
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.main import default_registry

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]
# The module of the toy service's model (conftest.py, under whatever name pytest gave it).
TOY = next(
    m.class_.__module__ for m in default_registry.mappers if m.local_table.name == "toy_notes"
)


class Instant(TypeDecorator[datetime]):
    """A project's own column type (like hotel_common.time.UtcDateTime)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True


class Parcel(SQLModel, table=True):
    __module__ = "probe_a.models"  # as if defined in a service package `probe_a`
    __tablename__ = "probe_parcels"
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=20)
    sent_at: datetime | None = Field(default=None, sa_type=Instant)


class Locker(SQLModel, table=True):
    __module__ = "probe_b.lockers.models"  # a module deeper in another package
    __tablename__ = "probe_lockers"
    id: int | None = Field(default=None, primary_key=True)


def url_for(db: str, tmp_path: Path) -> str:
    if db == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/m.db"
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_migrations_{uuid.uuid4().hex}"


@contextmanager
def extra_column(table: sa.Table, name: str) -> Iterator[None]:
    """The model as someone changed it without writing a revision."""
    column = sa.Column(name, sa.Integer, nullable=True)
    table.append_column(column)
    try:
        yield
    finally:
        table._columns.remove(column)


@pytest.fixture(scope="module")
def parcels_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    migrations_dir = tmp_path_factory.mktemp("probe_a") / "migrations"
    (migrations_dir / "versions").mkdir(parents=True)
    (migrations_dir / "env.py").write_text(
        "from hotel_common.migrations import run_env\nrun_env('probe_a')\n"
    )
    autogenerate(migrations_dir, "parcels")
    return migrations_dir


def test_a_history_owns_the_tables_its_package_defines_and_no_others() -> None:
    # Every model of the process shares SQLModel.metadata (embedded mode, tests).
    names = {t.name for t in SQLModel.metadata.sorted_tables}
    assert {"probe_parcels", "probe_lockers", "toy_notes", "outbox"} <= names
    assert [t.name for t in owned_tables("probe_a")] == ["probe_parcels"]
    assert [t.name for t in owned_tables("probe_b")] == ["probe_lockers"]
    assert owned_tables("probe") == []  # a package, not a name prefix
    assert [t.name for t in owned_tables(TOY)] == ["toy_notes"]
    assert {t.name for t in owned_tables(COMMON_OWNER)} == {
        "outbox",
        "processed_events",
        "idempotency_keys",
    }
    assert owned_tables(None) == []


def test_a_new_history_holds_its_own_tables_and_none_of_the_shared_ones(
    parcels_history: Path,
) -> None:
    (revision,) = (parcels_history / "versions").glob("*.py")
    text = revision.read_text()
    assert "probe_parcels" in text
    for other in ("probe_lockers", "toy_notes", "outbox", "processed_events", "idempotency"):
        assert other not in text
    # A project's column type is written as what it stores: the revision needs no import.
    assert "sa.Column('sent_at', sa.DateTime(timezone=True)" in text
    assert "Instant" not in text


@pytest.mark.parametrize("db", BACKENDS)
async def test_a_model_changed_without_a_revision_is_a_difference(
    parcels_history: Path, db: str, tmp_path: Path
) -> None:
    assert await drift(url_for(db, tmp_path), parcels_history, "probe_a") == []
    with extra_column(Parcel.__table__, "weight"):  # type: ignore[attr-defined]
        (change,) = await drift(url_for(db, tmp_path), parcels_history, "probe_a")
    assert change[0] == "add_column"
    assert (change[2], change[3].name) == ("probe_parcels", "weight")
    # The shared tables are compared too.
    outbox = next(t for t in owned_tables(COMMON_OWNER) if t.name == "outbox")
    with extra_column(outbox, "priority"):
        (change,) = await drift(url_for(db, tmp_path), parcels_history, "probe_a")
    assert (change[0], change[2], change[3].name) == ("add_column", "outbox", "priority")


@pytest.mark.parametrize("db", BACKENDS)
async def test_a_database_made_before_the_shared_history_is_adopted_as_it_is(
    toy_spec: ServiceSpec, db: str, tmp_path: Path
) -> None:
    """Until issue 14 each service's history created the shared tables: such a database has
    them, at the service's head, and no `alembic_version_common`. Start-up adopts them."""
    url = url_for(db, tmp_path)
    engine = create_async_engine(url)
    await ensure_database(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade, toy_spec.migrations_dir)
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (id, type, envelope, created_at, attempts)"
                    " VALUES ('e1', 'toy.note_written', '{}', CURRENT_TIMESTAMP, 0)"
                )
            )
            await conn.execute(sa.text("DROP TABLE alembic_version_common"))
        async with engine.begin() as conn:  # the next start-up
            await conn.run_sync(upgrade, toy_spec.migrations_dir)
        async with engine.connect() as conn:
            common = await conn.scalar(sa.text("SELECT version_num FROM alembic_version_common"))
            kept = await conn.scalar(sa.text("SELECT id FROM outbox"))
            service = await conn.scalar(sa.text("SELECT count(*) FROM alembic_version"))
            diff = await conn.run_sync(lambda c: schema_diff(c, TOY) + schema_diff(c, COMMON_OWNER))
        assert (common, kept, service, diff) == ("d14b_common", "e1", 1, [])
    finally:
        await engine.dispose()
        await drop_database(url)

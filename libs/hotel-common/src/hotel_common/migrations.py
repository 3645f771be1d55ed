"""Alembic, driven from code: two histories in every service's database.

- The shared tables (outbox, processed_events, idempotency_keys: the models of hotel_common
  itself) have one history, `hotel_common/common_migrations/`, version table
  `alembic_version_common`. A change to them is one revision there, for every service.
- A service's own tables have the service's history, `<package>/migrations/`, version table
  `alembic_version`. Its `env.py` imports the models and calls `run_env("<package>")`.

Which tables a history owns comes from the models, not from a list: every table mapped by a
class defined in the owning package (or a module below it). In one process several services
share `SQLModel.metadata` (embedded mode, tests); each history still sees its own tables only.
Start-up (`upgrade`) brings the shared history to head, then the service's.
"""

import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Table, TypeDecorator, create_engine, pool
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel
from sqlmodel.main import default_registry

from hotel_common.db import drop_database, ensure_database

COMMON_DIR = Path(__file__).parent / "common_migrations"
COMMON_OWNER = "hotel_common"
COMMON_VERSION_TABLE = "alembic_version_common"
SERVICE_VERSION_TABLE = "alembic_version"


def owned_tables(owner: str | None) -> list[Table]:
    """The tables mapped by classes defined in module `owner` or below it (None: none)."""
    if owner is None:
        return []

    def inside(module: str) -> bool:
        return module == owner or module.startswith(owner + ".")

    mapped = {t for m in default_registry.mappers if inside(m.class_.__module__) for t in m.tables}
    return [t for t in SQLModel.metadata.sorted_tables if t in mapped]


def _render_item(type_: str, obj: Any, _context: Any) -> str | Literal[False]:
    """A revision writes a project's column type (e.g. `hotel_common.time.UtcDateTime`) as what
    it stores (`sa.DateTime(timezone=True)`): no import to add, and history does not change
    when the type's Python side does. SQLAlchemy's and SQLModel's types render as usual."""
    own = isinstance(obj, TypeDecorator) and not type(obj).__module__.startswith(
        ("sqlalchemy.", "sqlmodel.")
    )
    return f"sa.{obj.impl!r}" if type_ == "type" and own else False


def _options(owner: str | None, version_table: str) -> dict[str, Any]:
    """Alembic's options for `owner`'s history: its tables, on both sides of a comparison."""
    names = frozenset(t.name for t in owned_tables(owner))
    return {
        "target_metadata": SQLModel.metadata,
        "version_table": version_table,
        "render_as_batch": True,  # SQLite can only ALTER through table copies
        "compare_type": True,
        "render_item": _render_item,
        # Reflected from the database: another history's tables and version table are left alone.
        "include_name": lambda name, type_, _parents: type_ != "table" or name in names,
        # From the metadata: other services' models imported in the same process are skipped.
        "include_object": lambda _obj, name, type_, _reflected, _other: (
            type_ != "table" or name in names
        ),
    }


def run_env(owner: str | None = None, *, version_table: str = SERVICE_VERSION_TABLE) -> None:
    """Body of every `env.py`: migrate the tables of the package `owner` (None: no tables)."""
    from alembic import context

    options = _options(owner, version_table)

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    # Command line: a scratch SQLite database at head is the comparison base.
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
    engine = create_engine(url, poolclass=pool.StaticPool)
    with engine.begin() as conn:
        run(conn)


def _config(migrations_dir: Path, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, migrations_dir: Path) -> None:
    """Bring the shared tables, then the service's, to head (through `AsyncConnection.run_sync`)."""
    command.upgrade(_config(COMMON_DIR, connection), "head")
    if migrations_dir.resolve() != COMMON_DIR.resolve():
        command.upgrade(_config(migrations_dir, connection), "head")


def schema_diff(connection: Connection, owner: str | None) -> list[Any]:
    """What autogenerate would write for `owner`'s tables (the shared ones: `COMMON_OWNER`):
    the differences between the models and the database, empty when they agree."""
    options = _options(owner, SERVICE_VERSION_TABLE)  # every version table is left out
    target = options.pop("target_metadata")
    with warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (PostgreSQL compares them).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        return list(compare_metadata(MigrationContext.configure(connection, opts=options), target))


async def drift(url: str, migrations_dir: Path, owner: str | None) -> list[Any]:
    """Migrate a new database at `url` to head and compare it with the models, for `owner`'s
    tables and the shared ones: what autogenerate would write, empty when they agree. The
    database is dropped afterwards."""

    def compare(connection: Connection) -> list[Any]:
        upgrade(connection, migrations_dir)
        return schema_diff(connection, owner) + schema_diff(connection, COMMON_OWNER)

    await ensure_database(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()
        await drop_database(url)


def autogenerate(migrations_dir: Path, message: str) -> None:
    """Write a new revision with the difference between the models and the migrations so far."""
    # One template for every history, lent to the folder for the duration of the command.
    template = migrations_dir / "script.py.mako"
    shutil.copy(Path(__file__).parent / "templates" / "script.py.mako", template)
    engine = create_engine("sqlite://", poolclass=pool.StaticPool)
    try:
        with engine.begin() as conn:
            upgrade(conn, migrations_dir)
            command.revision(_config(migrations_dir, conn), message=message, autogenerate=True)
    finally:
        template.unlink()


if __name__ == "__main__":  # python -m hotel_common.migrations <migrations dir | common> <message>
    where = COMMON_DIR if sys.argv[1] == "common" else Path(sys.argv[1])
    autogenerate(where, " ".join(sys.argv[2:]) or "change")

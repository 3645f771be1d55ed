"""Alembic, driven from code: each service keeps its own migrations folder and version table.

A service's `migrations/env.py` is two lines: `from hotel_common.migrations import run_env`,
`run_env(TABLE_NAMES)`. Start-up upgrades to head inside the service's own async connection.
A service's initial revision creates the shared tables with `create_common_tables()`.
"""

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from sqlalchemy import Connection, create_engine, pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

# Tables the shared library adds to every service's database.
COMMON_TABLES = frozenset({"outbox", "processed_events", "idempotency_keys"})


def create_common_tables() -> None:
    """Create the shared tables (outbox, processed_events, idempotency_keys) in a revision.

    Their models: hotel_common.events.outbox, hotel_common.events.inbox, hotel_common.idempotency.
    A change to one of them needs a revision in every service.
    """
    op.create_table(
        "idempotency_keys",
        sa.Column("key", AutoString(length=255), nullable=False),
        sa.Column("fingerprint", AutoString(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("type", AutoString(length=100), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_unsent", ["published_at", "seq"], unique=False)
    op.create_table(
        "processed_events",
        sa.Column("event_id", AutoString(length=36), nullable=False),
        sa.Column("handler", AutoString(length=200), nullable=False),
        sa.Column("event_type", AutoString(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler"),
    )


def drop_common_tables() -> None:
    """Drop what `create_common_tables` created (a service's initial downgrade)."""
    op.drop_table("processed_events")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unsent")
    op.drop_table("outbox")
    op.drop_table("idempotency_keys")


def _config(migrations_dir: Path, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, migrations_dir: Path) -> None:
    """Bring the schema to head (call through `AsyncConnection.run_sync`)."""
    command.upgrade(_config(migrations_dir, connection), "head")


def run_env(table_names: Iterable[str]) -> None:
    """Body of every service's env.py: migrate only that service's tables plus the shared ones."""
    from alembic import context

    import hotel_common.events.inbox
    import hotel_common.events.outbox
    import hotel_common.idempotency  # noqa: F401  (register the shared tables)

    owned = frozenset(table_names) | COMMON_TABLES

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in owned

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            include_name=include_name,
            render_as_batch=True,  # SQLite can only ALTER through table copies
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    # Command line (autogenerate): a scratch SQLite database at head is the comparison base.
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
    engine = create_engine(url, poolclass=pool.StaticPool)
    with engine.begin() as conn:
        run(conn)


def autogenerate(migrations_dir: Path, message: str) -> None:
    """Write a new revision with the difference between the models and the migrations so far."""
    # One template for every service, lent to the folder for the duration of the command.
    template = migrations_dir / "script.py.mako"
    shutil.copy(Path(__file__).parent / "templates" / "script.py.mako", template)
    engine = create_engine("sqlite://", poolclass=pool.StaticPool)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(migrations_dir, conn), "head")
            command.revision(_config(migrations_dir, conn), message=message, autogenerate=True)
    finally:
        template.unlink()


if __name__ == "__main__":  # python -m hotel_common.migrations <migrations dir> <message>
    autogenerate(Path(sys.argv[1]), " ".join(sys.argv[2:]) or "change")

"""The shared tables (outbox, processed_events, idempotency_keys) in a history of their own.

Until issue 14 every service's history created them (its initial revision, then
`c13a_shared_tables`). A database made then already has them, in this very shape: they are
adopted as they are; a new database gets them here.

Revision ID: d14b_common
Revises:
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "d14b_common"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "idempotency_keys" not in existing:
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
    if "outbox" not in existing:
        op.create_table(
            "outbox",
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("id", AutoString(length=36), nullable=False),
            sa.Column("type", AutoString(length=100), nullable=False),
            sa.Column("envelope", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_error", AutoString(length=500), nullable=True),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("id"),
        )
        op.create_index("ix_outbox_unsent", "outbox", ["published_at", "seq"])
        op.create_index("ix_outbox_parked", "outbox", ["parked_at"])
    if "processed_events" not in existing:
        op.create_table(
            "processed_events",
            sa.Column("event_id", AutoString(length=36), nullable=False),
            sa.Column("handler", AutoString(length=200), nullable=False),
            sa.Column("event_type", AutoString(length=100), nullable=False),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("event_id", "handler"),
        )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_parked", table_name="outbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("idempotency_keys")

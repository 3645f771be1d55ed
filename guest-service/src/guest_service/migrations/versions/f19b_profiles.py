"""Issue 19: profiles: the audit of full ID-document reads

Revision ID: f19b_profiles
Revises: f19a_profiles
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19b_profiles"
down_revision: str | None = "f19a_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guest_pii_reads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("reader", sa.String(length=100), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_pii_reads_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_pii_reads_guest", "guest_pii_reads", ["guest_id"])
    op.create_index("ix_guest_pii_reads_read_at_id", "guest_pii_reads", ["read_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_guest_pii_reads_read_at_id", table_name="guest_pii_reads")
    op.drop_index("ix_guest_pii_reads_guest", table_name="guest_pii_reads")
    op.drop_table("guest_pii_reads")

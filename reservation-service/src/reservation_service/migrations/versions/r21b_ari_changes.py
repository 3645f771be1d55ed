"""Issue 21: staged ARI changes and per-room-type sequences for availability.changed

Revision ID: r21b_ari_changes
Revises: r21a_mappings
Create Date: 2026-12-02 02:40:32
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r21b_ari_changes"
down_revision: str | None = "r21a_mappings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ari_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_type_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ari_sequences",
        sa.Column("room_type_id", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["room_type_id"], ["room_types.id"]),
        sa.PrimaryKeyConstraint("room_type_id"),
    )


def downgrade() -> None:
    op.drop_table("ari_sequences")
    op.drop_table("ari_changes")

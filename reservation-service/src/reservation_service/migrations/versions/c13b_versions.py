"""reservation version: bumped on every state change, carried by its events

Revision ID: c13b_versions
Revises: c13a_shared_tables
Create Date: 2026-11-30 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c13b_versions"
down_revision: str | None = "c13a_shared_tables"  # helper C's shared-tables revision
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "reservations",
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    # Existing bookings count the changes they went through: requested, confirmed, cancelled.
    op.execute(
        "UPDATE reservations SET version = 1"
        " + CASE WHEN confirmed_at IS NULL THEN 0 ELSE 1 END"
        " + CASE WHEN cancelled_at IS NULL THEN 0 ELSE 1 END"
    )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("version")

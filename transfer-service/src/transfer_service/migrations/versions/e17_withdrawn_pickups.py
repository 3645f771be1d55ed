"""Issue 17: a pickup withdrawn by a booking's modification before its job existed

Revision ID: e17_withdrawn_pickups
Revises: d14e_transfer
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from hotel_common.time import UtcDateTime

revision: str = "e17_withdrawn_pickups"
down_revision: str | None = "d14e_transfer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "withdrawn_pickups",
        sa.Column("reservation_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reservation_id"),
    )


def downgrade() -> None:
    op.drop_table("withdrawn_pickups")

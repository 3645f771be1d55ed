"""Issue 18 review: a departure drop-off withdrawn by a booking's modification before its job
existed (the modification overtook the confirmation), so the older confirmation opens none.

Revision ID: f18d_withdrawn_departures
Revises: f18c_flight_date
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from hotel_common.time import UtcDateTime

revision: str = "f18d_withdrawn_departures"
down_revision: str | None = "f18c_flight_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "withdrawn_departures",
        sa.Column("reservation_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reservation_id"),
    )


def downgrade() -> None:
    op.drop_table("withdrawn_departures")

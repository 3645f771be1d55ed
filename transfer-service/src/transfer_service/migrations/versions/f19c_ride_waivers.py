"""Issue 19: free rides granted for complaint cases (a waived fare or a voucher), once per case

Revision ID: f19c_ride_waivers
Revises: f18d_withdrawn_departures
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19c_ride_waivers"
down_revision: str | None = "f18d_withdrawn_departures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ride_waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=30), nullable=False),
        sa.Column("reservation_id", sa.String(length=36), nullable=True),
        sa.Column("transfer_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("transfer_id"),
    )
    op.create_index("ix_ride_waivers_reservation", "ride_waivers", ["reservation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_ride_waivers_reservation", table_name="ride_waivers")
    op.drop_table("ride_waivers")

"""Issue 18 review: a job remembers its flight's scheduled local date, which a flight update
does not move (a flight delayed past midnight is still named by that date), and the flight's
time as booked (a booking change leaving the flight as booked keeps a flight update's move).

Revision ID: f18c_flight_date
Revises: f18b_maintenance_who
Create Date: 2026-12-01 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f18c_flight_date"
down_revision: str | None = "f18b_maintenance_who"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flight_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("booked_flight_time", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.drop_column("booked_flight_time")
        batch_op.drop_column("flight_date")

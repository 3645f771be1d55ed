"""Issue 18, fleet: who recorded a vehicle's maintenance period, and who ended it and when.

Revision ID: f18b_maintenance_who
Revises: f18a_dispatch_day
Create Date: 2026-12-01 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "f18b_maintenance_who"
down_revision: str | None = "f18a_dispatch_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vehicle_maintenance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by",
                sqlmodel.sql.sqltypes.AutoString(length=80),
                nullable=False,
                server_default="system",
            )
        )
        batch_op.add_column(
            sa.Column("ended_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vehicle_maintenance", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("created_by")

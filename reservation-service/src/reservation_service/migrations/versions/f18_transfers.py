"""Issue 18: the transfer needs and the departure drop-off of a booking; rate plans that
include transfers

Revision ID: f18_transfers
Revises: e17f_stay
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f18_transfers"
down_revision: str | None = "e17f_stay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("transfer_needs", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("departure", sa.JSON(), nullable=True))
    with op.batch_alter_table("rate_plans") as batch:
        batch.add_column(
            sa.Column("includes_transfers", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_plans") as batch:
        batch.drop_column("includes_transfers")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("departure")
        batch.drop_column("transfer_needs")

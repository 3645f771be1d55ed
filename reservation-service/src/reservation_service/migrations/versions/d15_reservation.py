"""Issue 15: every booking records its owner (the principal that made it)

Revision ID: d15_reservation
Revises: d14d_reservation
Create Date: 2026-12-01 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d15_reservation"
down_revision: str | None = "d14d_reservation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reservations", sa.Column("owner", sa.String(length=100), nullable=True))
    # Bookings made before owners were recorded belong to no partner, guest id or staff
    # member: "legacy" matches no principal id, so only staff (and guests by address) see them.
    op.execute("UPDATE reservations SET owner = 'legacy'")
    with op.batch_alter_table("reservations") as batch:
        batch.alter_column("owner", existing_type=sa.String(length=100), nullable=False)
        batch.create_index("ix_reservations_owner", ["owner"])


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_index("ix_reservations_owner")
        batch.drop_column("owner")

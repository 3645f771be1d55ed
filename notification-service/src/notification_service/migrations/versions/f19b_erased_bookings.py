"""Issue 19: bookings whose guest was erased get no more notices (their late events still carry
the address)

Revision ID: f19b_erased_bookings
Revises: f19_notices
Create Date: 2026-12-01 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19b_erased_bookings"
down_revision: str | None = "f19_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_bookings",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reservation_id"),
    )


def downgrade() -> None:
    op.drop_table("erased_bookings")

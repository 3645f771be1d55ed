"""Issue 17: modification, guarantee, no-show and expiry (when a guarantee was met, when a
booking was marked no-show; indexes the workers' sweeps read by)

Revision ID: e17e_changes
Revises: e17a_history
Create Date: 2026-12-01 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17e_changes"
down_revision: str | None = "e17d_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("guaranteed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("no_show_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_reservations_expires_at", ["expires_at"])
        batch.create_index("ix_reservations_guarantee_due_at", ["guarantee_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_index("ix_reservations_guarantee_due_at")
        batch.drop_index("ix_reservations_expires_at")
        batch.drop_column("no_show_at")
        batch.drop_column("guaranteed_at")

"""Issue 17: the reservation's version a notice tells of, so a stale change is not told

Revision ID: e17_notification
Revises: d15_notification
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17_notification"
down_revision: str | None = "d15_notification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable): no batch copy, so the expression index survives on SQLite.
    op.add_column("notifications", sa.Column("reservation_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "reservation_version")

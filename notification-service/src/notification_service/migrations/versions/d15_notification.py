"""Issue 15: sign-in codes by email or text message. A text message's number, the code kept only
until it is sent, and when it expires.

Revision ID: d15_notification
Revises: d14e_notification
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d15_notification"
down_revision: str | None = "d14e_notification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable): no batch copy, so the expression index survives on SQLite.
    op.add_column("notifications", sa.Column("phone", sa.String(length=16), nullable=True))
    op.add_column("notifications", sa.Column("secret", sa.String(length=64), nullable=True))
    op.add_column(
        "notifications", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35+), for the same reason.
    for column in ("expires_at", "secret", "phone"):
        op.drop_column("notifications", column)

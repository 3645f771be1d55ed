"""Issue 14: the address column is `email` (one vocabulary), and the second guard against a
notice queued twice for one event goes: handlers are keyed by stable names now, so the inbox
alone guards.

Revision ID: d14e_notification
Revises: c13e_delivery
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d14e_notification"
down_revision: str | None = "c13e_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Expression indexes are not reflected on SQLite, so a batch copy would lose it: dropped
    # before and made again after.
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notifications_event_kind", type_="unique")
        batch_op.alter_column("recipient", new_column_name="email")
    op.create_index(
        "ix_notifications_email", "notifications", [sa.text("lower(email)")], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_email", table_name="notifications")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("email", new_column_name="recipient")
        batch_op.create_unique_constraint("uq_notifications_event_kind", ["event_id", "kind"])
    op.create_index(
        "ix_notifications_recipient", "notifications", [sa.text("lower(recipient)")], unique=False
    )

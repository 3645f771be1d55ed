"""Issue 20: channels, providers, receipts, fallback; suppressed notices keep their reason

The statuses superseded, expired, withheld and erased become `suppressed` with that `reason`.

Revision ID: g20a_channels
Revises: f19b_erased_bookings
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g20a_channels"
down_revision: str | None = "f19b_erased_bookings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUPPRESSED = ("superseded", "expired", "withheld", "erased")


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy on SQLite would lose the lower(email) index.
    for column in (
        sa.Column("reason", sa.String(20), nullable=True),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("provider_message_id", sa.String(200), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deliver_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fallback", sa.JSON(), nullable=True),
        sa.Column("fallback_of", sa.String(36), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("calendar", sa.JSON(), nullable=True),
    ):
        op.add_column("notifications", column)
    op.create_index("ix_notifications_fallback_of", "notifications", ["fallback_of"])
    op.create_index(
        "ix_notifications_provider_message", "notifications", ["provider", "provider_message_id"]
    )
    op.create_index("ix_notifications_deliver_by", "notifications", ["status", "deliver_by"])
    notifications = sa.table(
        "notifications", sa.column("status", sa.String), sa.column("reason", sa.String)
    )
    for old in SUPPRESSED:
        op.execute(
            notifications.update()
            .where(notifications.c.status == old)
            .values(status="suppressed", reason=old)
        )


def downgrade() -> None:
    notifications = sa.table(
        "notifications", sa.column("status", sa.String), sa.column("reason", sa.String)
    )
    for old in SUPPRESSED:
        op.execute(
            notifications.update()
            .where(notifications.c.status == "suppressed", notifications.c.reason == old)
            .values(status=old)
        )
    op.drop_index("ix_notifications_email", table_name="notifications")
    op.drop_index("ix_notifications_deliver_by", "notifications")
    op.drop_index("ix_notifications_provider_message", "notifications")
    op.drop_index("ix_notifications_fallback_of", "notifications")
    with op.batch_alter_table("notifications") as batch:
        for name in (
            "calendar", "html", "fallback_of", "fallback", "deliver_by", "urgent",
            "delivered_at", "provider_message_id", "provider", "reason",
        ):  # fmt: skip
            batch.drop_column(name)
    # Dropped before the batch (a copy on SQLite would lose it) and made again after.
    op.create_index("ix_notifications_email", "notifications", [sa.text("lower(email)")])

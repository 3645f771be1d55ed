"""Issue 20: the guest's in-app inbox, push devices, the staff inbox and its digest settings

Revision ID: g20e_inbox
Revises: g20a_channels
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "g20e_inbox"
down_revision: str | None = "g20a_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int) -> AutoString:
    return AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", _s(36), nullable=False),
        sa.Column("notification_id", _s(36), nullable=False),
        sa.Column("guest_id", _s(36), nullable=True),
        sa.Column("email_hash", _s(64), nullable=True),
        sa.Column("phone_hash", _s(64), nullable=True),
        sa.Column("kind", _s(40), nullable=False),
        sa.Column("title", _s(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reservation_id", _s(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id"),
    )
    for column in ("guest_id", "email_hash", "phone_hash", "created_at"):
        op.create_index(f"ix_inbox_messages_{column}", "inbox_messages", [column])
    op.create_table(
        "push_devices",
        sa.Column("token", _s(512), nullable=False),
        sa.Column("platform", sa.String(10), nullable=False),
        sa.Column("email_hash", _s(64), nullable=True),
        sa.Column("phone_hash", _s(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    for column in ("email_hash", "phone_hash"):
        op.create_index(f"ix_push_devices_{column}", "push_devices", [column])
    op.create_table(
        "staff_alerts",
        sa.Column("id", _s(36), nullable=False),
        sa.Column("audience", _s(20), nullable=False),
        sa.Column("kind", _s(40), nullable=False),
        sa.Column("title", _s(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_id", _s(36), nullable=False),
        sa.Column("reservation_id", _s(64), nullable=True),
        sa.Column("transfer_id", _s(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "kind", name="uq_staff_alerts_event_kind"),
    )
    op.create_index(
        "ix_staff_alerts_audience_created", "staff_alerts", ["audience", "created_at", "id"]
    )
    op.create_table(
        "staff_alert_reads",
        sa.Column("alert_id", _s(36), nullable=False),
        sa.Column("staff_id", _s(100), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "staff_id"),
    )
    op.create_table(
        "staff_inbox_settings",
        sa.Column("staff_id", _s(100), nullable=False),
        sa.Column("digest", sa.String(20), nullable=False),
        sa.Column("email", _s(320), nullable=True),
        sa.Column("language", _s(16), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )


def downgrade() -> None:
    op.drop_table("staff_inbox_settings")
    op.drop_table("staff_alert_reads")
    op.drop_index("ix_staff_alerts_audience_created", table_name="staff_alerts")
    op.drop_table("staff_alerts")
    for column in ("email_hash", "phone_hash"):
        op.drop_index(f"ix_push_devices_{column}", table_name="push_devices")
    op.drop_table("push_devices")
    for column in ("guest_id", "email_hash", "phone_hash", "created_at"):
        op.drop_index(f"ix_inbox_messages_{column}", table_name="inbox_messages")
    op.drop_table("inbox_messages")

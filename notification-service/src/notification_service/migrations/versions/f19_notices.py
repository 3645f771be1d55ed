"""Issue 19: the guests' contact preferences held for notices, and what a notice knows of its guest

Two tables: the newest contact-preference snapshot per guest profile (a tombstone once the guest is
erased) and the profile's contacts by hash. A notice names its guest profile, its purpose
(service or marketing) and until when it waited for the guest's quiet hours.

Revision ID: f19_notices
Revises: f18_notification
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = "f19_notices"
down_revision: str | None = "f18_notification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_preferences",
        sa.Column("guest_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("quiet_start", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("quiet_end", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("quiet_timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("consents", sa.JSON(), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guest_id"),
    )
    op.create_table(
        "notice_contacts",
        sa.Column("contact_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("guest_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.PrimaryKeyConstraint("contact_hash", "guest_id"),
    )
    op.create_index("ix_notice_contacts_guest_id", "notice_contacts", ["guest_id"], unique=False)
    # Plain ADD COLUMN (no batch copy on SQLite, so the expression index on lower(email) stays).
    op.add_column(
        "notifications",
        sa.Column("guest_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    )
    op.add_column(
        "notifications",
        sa.Column("purpose", sa.String(length=10), nullable=False, server_default="service"),
    )
    op.add_column(
        "notifications", sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_notifications_guest_id", "notifications", ["guest_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notifications_guest_id", table_name="notifications")
    op.drop_index("ix_notifications_email", table_name="notifications")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("deferred_until")
        batch_op.drop_column("purpose")
        batch_op.drop_column("guest_id")
    op.create_index(
        "ix_notifications_email", "notifications", [sa.text("lower(email)")], unique=False
    )
    op.drop_index("ix_notice_contacts_guest_id", table_name="notice_contacts")
    op.drop_table("notice_contacts")
    op.drop_table("notice_preferences")

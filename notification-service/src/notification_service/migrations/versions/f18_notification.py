"""Issue 18: notices of transfers without a booking (ad-hoc jobs) and of a job's own events

A notice's reservation and confirmation number may be absent (NULL, formerly stored as ""), and a
transfer notice names its job and the job's version (a stale one is not told).

Revision ID: f18_notification
Revises: e17_notification
Create Date: 2026-12-01 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "f18_notification"
down_revision: str | None = "e17_notification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Expression indexes are not reflected on SQLite, so a batch copy would lose it: dropped
    # before and made again after (as d14e_notification).
    op.drop_index("ix_notifications_email", table_name="notifications")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "reservation_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=True,
        )
        batch_op.alter_column(
            "confirmation_number",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=True,
        )
        batch_op.add_column(
            sa.Column("transfer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch_op.add_column(sa.Column("transfer_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_notifications_transfer_id", ["transfer_id"], unique=False)
    op.create_index(
        "ix_notifications_email", "notifications", [sa.text("lower(email)")], unique=False
    )
    # "" meant "no booking" (sign-in codes): now absent.
    op.execute("UPDATE notifications SET reservation_id = NULL WHERE reservation_id = ''")
    op.execute("UPDATE notifications SET confirmation_number = NULL WHERE confirmation_number = ''")


def downgrade() -> None:
    op.execute("UPDATE notifications SET reservation_id = '' WHERE reservation_id IS NULL")
    op.execute(
        "UPDATE notifications SET confirmation_number = '' WHERE confirmation_number IS NULL"
    )
    op.drop_index("ix_notifications_email", table_name="notifications")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_transfer_id")
        batch_op.drop_column("transfer_version")
        batch_op.drop_column("transfer_id")
        batch_op.alter_column(
            "confirmation_number",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=False,
        )
        batch_op.alter_column(
            "reservation_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=False,
        )
    op.create_index(
        "ix_notifications_email", "notifications", [sa.text("lower(email)")], unique=False
    )

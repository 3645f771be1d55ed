"""Issue 20: reminders scheduled from the booking and the guest's surveys, and the pickups
they name

Revision ID: g20c_reminders
Revises: g20d_bad_addresses
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "g20c_reminders"
down_revision: str | None = "g20d_bad_addresses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_reminders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reservation_id", sa.String(64), nullable=True),
        sa.Column("guest_id", sa.String(36), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_scheduled_reminders_due", "scheduled_reminders", ["status", "due_at"])
    op.create_index(
        "ix_scheduled_reminders_reservation_id", "scheduled_reminders", ["reservation_id"]
    )
    op.create_index("ix_scheduled_reminders_guest_id", "scheduled_reminders", ["guest_id"])
    op.create_table(
        "reminder_pickups",
        sa.Column("transfer_id", sa.String(36), primary_key=True),
        sa.Column("reservation_id", sa.String(64), nullable=False),
        sa.Column("job_version", sa.Integer(), nullable=True),
        sa.Column("booking_version", sa.Integer(), nullable=True),
        sa.Column("pickup_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pickup_place", sa.String(300), nullable=False),
        sa.Column("destination", sa.String(300), nullable=False),
        sa.Column("driver_name", sa.String(200), nullable=True),
        sa.Column("driver_phone", sa.String(64), nullable=True),
        sa.Column("vehicle_plate", sa.String(64), nullable=True),
        sa.Column("vehicle_description", sa.String(300), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_reminder_pickups_reservation_id", "reminder_pickups", ["reservation_id"])


def downgrade() -> None:
    op.drop_index("ix_reminder_pickups_reservation_id", "reminder_pickups")
    op.drop_table("reminder_pickups")
    op.drop_index("ix_scheduled_reminders_guest_id", "scheduled_reminders")
    op.drop_index("ix_scheduled_reminders_reservation_id", "scheduled_reminders")
    op.drop_index("ix_scheduled_reminders_due", "scheduled_reminders")
    op.drop_table("scheduled_reminders")

"""Initial schema: guests and their stays, plus the shared outbox, inbox and idempotency tables.

Revision ID: 08e0c810433a
Revises:
Create Date: 2026-11-25 13:05:19.119917
"""

# The shared tables this revision used to create have their own history since issue 14
# (hotel_common/common_migrations), which runs first.

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = "08e0c810433a"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guests",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guests", schema=None) as batch_op:
        batch_op.create_index("ix_guests_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_guests_email", ["email"], unique=True)
        batch_op.create_index("ix_guests_phone", ["phone"], unique=True)

    op.create_table(
        "guest_stays",
        sa.Column("reservation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "confirmation_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("property_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("room_type_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("guest_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"],
            ["guests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guest_stays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_stays_guest_id"), ["guest_id"], unique=False)
        batch_op.create_index("ix_guest_stays_reservation_id", ["reservation_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("guest_stays", schema=None) as batch_op:
        batch_op.drop_index("ix_guest_stays_reservation_id")
        batch_op.drop_index(batch_op.f("ix_guest_stays_guest_id"))

    op.drop_table("guest_stays")
    with op.batch_alter_table("guests", schema=None) as batch_op:
        batch_op.drop_index("ix_guests_phone")
        batch_op.drop_index("ix_guests_email")
        batch_op.drop_index("ix_guests_created_at_id")

    op.drop_table("guests")

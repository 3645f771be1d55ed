"""Issue 19: stay history (booking channels, rides, feedback), guest value (RFM) and segments

Revision ID: f19s_segments
Revises: f19c_feedback
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19s_segments"
down_revision: str | None = "f19c_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "guest_booking_channels",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("reservation_id"),
    )
    op.create_table(
        "guest_transfers",
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        _instant("completed_at"),
        sa.Column("fare_amount", sa.Integer(), nullable=True),
        sa.Column("fare_currency", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_transfers_guest_id"),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    op.create_index("ix_guest_transfers_reservation_id", "guest_transfers", ["reservation_id"])
    op.create_index("ix_guest_transfers_guest_id", "guest_transfers", ["guest_id"])
    op.create_table(
        "guest_feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        _instant("at"),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_feedback_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_feedback_guest_id", "guest_feedback", ["guest_id"])
    op.create_index("ix_guest_feedback_reference", "guest_feedback", ["reference"], unique=True)
    op.create_table(
        "guest_values",
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("last_stay_on", sa.Date(), nullable=True),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("nights", sa.Integer(), nullable=False),
        sa.Column("spend_cny", sa.Integer(), nullable=False),
        sa.Column("lifetime_stays", sa.Integer(), nullable=False),
        sa.Column("lifetime_spend_cny", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=True),
        sa.Column("monetary", sa.Integer(), nullable=True),
        sa.Column("value_class", sa.String(length=16), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        _instant("refreshed_at"),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_values_guest_id"),
        sa.PrimaryKeyConstraint("guest_id"),
    )
    op.create_index("ix_guest_values_value_class", "guest_values", ["value_class"])
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        _instant("refreshed_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_segments_name", "segments", ["name"], unique=True)
    op.create_index("ix_segments_created_at_id", "segments", ["created_at", "id"])
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name="fk_segment_members_segment_id"
        ),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_segment_members_guest_id"),
        sa.PrimaryKeyConstraint("segment_id", "guest_id"),
    )
    op.create_index("ix_segment_members_guest_id", "segment_members", ["guest_id"])


def downgrade() -> None:
    op.drop_table("segment_members")
    op.drop_table("segments")
    op.drop_table("guest_values")
    op.drop_table("guest_feedback")
    op.drop_table("guest_transfers")
    op.drop_table("guest_booking_channels")
    # Stays marked no_show (a status this revision brought) read as confirmed before it.
    op.execute("UPDATE guest_stays SET status = 'confirmed' WHERE status = 'no_show'")

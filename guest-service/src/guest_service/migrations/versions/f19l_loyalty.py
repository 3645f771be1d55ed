"""Issue 19: loyalty: members, the points ledger, redemptions

Revision ID: f19l_loyalty
Revises: f19s_segments
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19l_loyalty"
down_revision: str | None = "f19s_segments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("member_number", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("enrolled_by", sa.String(length=16), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tier_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_stay_at", sa.Date(), nullable=True),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("birthday_year", sa.Integer(), nullable=True),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_loyalty_members_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loyalty_members_guest_id", "loyalty_members", ["guest_id"], unique=True)
    op.create_index(
        "ix_loyalty_members_member_number", "loyalty_members", ["member_number"], unique=True
    )
    op.create_index("ix_loyalty_members_status", "loyalty_members", ["status", "last_stay_at"])

    op.create_table(
        "loyalty_ledger",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["loyalty_members.id"], name="fk_loyalty_ledger_member_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_loyalty_ledger_reference", "loyalty_ledger", ["reason", "reference"], unique=True
    )
    op.create_index("ix_loyalty_ledger_member", "loyalty_ledger", ["member_id", "created_at", "id"])

    op.create_table(
        "loyalty_redemptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reward", sa.String(length=40), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("credit_amount", sa.Integer(), nullable=True),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("redeemed_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["loyalty_members.id"], name="fk_loyalty_redemptions_member_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_loyalty_redemptions_member",
        "loyalty_redemptions",
        ["member_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("loyalty_redemptions")
    op.drop_table("loyalty_ledger")
    op.drop_table("loyalty_members")

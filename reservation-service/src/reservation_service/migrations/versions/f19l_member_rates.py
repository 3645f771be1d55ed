"""Issue 19: loyalty member rates: guest-service's tiers and members' addresses

Revision ID: f19l_member_rates
Revises: f18_transfers
Create Date: 2026-12-01 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19l_member_rates"
down_revision: str | None = "f18_transfers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_member_rates",
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guest_id"),
    )
    op.create_table(
        "loyalty_member_emails",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"],
            ["loyalty_member_rates.guest_id"],
            name="fk_loyalty_member_emails_guest_id",
        ),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_index("ix_loyalty_member_emails_guest_id", "loyalty_member_emails", ["guest_id"])


def downgrade() -> None:
    op.drop_table("loyalty_member_emails")
    op.drop_table("loyalty_member_rates")

"""Issue 17: the booking's history, and the check-in / check-out stamps

Revision ID: e17a_history
Revises: d15_reservation
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17a_history"
down_revision: str | None = "d15_reservation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("rate_plan_code", sa.String(length=16), nullable=False, server_default="BASE")
        )
        batch.add_column(
            sa.Column("nightly_amounts", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("tax_amount", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("policy", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("guarantee_due_at", sa.DateTime(timezone=True), nullable=True))
        for amount in ("cancellation_fee_amount", "refund_amount"):
            batch.add_column(sa.Column(amount, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "reservation_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reservation_id", sa.String(length=36), sa.ForeignKey("reservations.id"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.UniqueConstraint("reservation_id", "version", name="uq_reservation_history_version"),
    )


def downgrade() -> None:
    op.drop_table("reservation_history")
    with op.batch_alter_table("reservations") as batch:
        for column in (
            "refund_amount",
            "cancellation_fee_amount",
            "guarantee_due_at",
            "expires_at",
            "policy",
            "tax_amount",
            "nightly_amounts",
            "rate_plan_code",
            "checked_out_at",
        ):
            batch.drop_column(column)
        batch.drop_column("checked_in_at")

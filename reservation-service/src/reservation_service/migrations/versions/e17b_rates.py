"""Issue 17: rate plans, their seasons and per-night ARI rows; the property's tax rate

Revision ID: e17b_rates
Revises: e17a_history
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17b_rates"
down_revision: str | None = "e17a_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("properties") as batch:
        batch.add_column(sa.Column("tax_rate_bp", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "rate_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room_type_id", sa.Integer(), sa.ForeignKey("room_types.id"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("rate_plans.id"), nullable=True),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("weekday_amount", sa.Integer(), nullable=True),
        sa.Column("weekend_amount", sa.Integer(), nullable=True),
        sa.Column("cancel_free_until_hours", sa.Integer(), nullable=False),
        sa.Column("cancel_fee", sa.String(length=16), nullable=False),
        sa.Column("cancel_fee_percent", sa.Integer(), nullable=False),
        sa.Column("guarantee_kind", sa.String(length=16), nullable=False),
        sa.Column("guarantee_deposit_percent", sa.Integer(), nullable=False),
        sa.Column("guarantee_due_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("room_type_id", "code", name="uq_rate_plans_room_type_code"),
        sa.CheckConstraint(
            "discount_bp >= 0 AND discount_bp < 10000", name="ck_rate_plans_discount_bp"
        ),
        sa.CheckConstraint(
            "(kind = 'derived') = (parent_id IS NOT NULL)", name="ck_rate_plans_parent"
        ),
    )
    op.create_index("ix_rate_plans_room_type_id", "rate_plans", ["room_type_id"])
    op.create_index("ix_rate_plans_parent_id", "rate_plans", ["parent_id"])
    op.create_table(
        "rate_plan_seasons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rate_plan_id", sa.Integer(), sa.ForeignKey("rate_plans.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("weekday_amount", sa.Integer(), nullable=False),
        sa.Column("weekend_amount", sa.Integer(), nullable=True),
        sa.CheckConstraint("end_date > start_date", name="ck_rate_plan_seasons_dates"),
    )
    op.create_index("ix_rate_plan_seasons_rate_plan_id", "rate_plan_seasons", ["rate_plan_id"])
    op.create_table(
        "rate_plan_nights",
        sa.Column("rate_plan_id", sa.Integer(), sa.ForeignKey("rate_plans.id"), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("min_stay", sa.Integer(), nullable=True),
        sa.Column("max_stay", sa.Integer(), nullable=True),
        sa.Column("closed_to_arrival", sa.Boolean(), nullable=False),
        sa.Column("closed_to_departure", sa.Boolean(), nullable=False),
        sa.Column("stop_sell", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("rate_plan_id", "night"),
    )


def downgrade() -> None:
    op.drop_table("rate_plan_nights")
    op.drop_index("ix_rate_plan_seasons_rate_plan_id", table_name="rate_plan_seasons")
    op.drop_table("rate_plan_seasons")
    op.drop_index("ix_rate_plans_parent_id", table_name="rate_plans")
    op.drop_index("ix_rate_plans_room_type_id", table_name="rate_plans")
    op.drop_table("rate_plans")
    with op.batch_alter_table("properties") as batch:
        batch.drop_column("tax_rate_bp")

"""Issue 17, intake: the party, typed requests, source, OTA ids, several rooms per booking

Revision ID: e17d_intake
Revises: e17a_history
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17d_intake"
down_revision: str | None = "e17c_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("adults", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("children_ages", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("requests", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="web")
        )
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("room_count", sa.Integer(), nullable=False, server_default="1"))
        batch.create_unique_constraint(
            "uq_reservations_channel_external_id", ["channel", "external_id"]
        )
        batch.create_index("ix_reservations_channel_status", ["channel", "status"])
    # Bookings made before: every guest an adult; the source as the channel implies.
    op.execute("UPDATE reservations SET adults = guests")
    op.execute(
        "UPDATE reservations SET source = CASE channel"
        " WHEN 'mobile_app' THEN 'app' WHEN 'front_desk' THEN 'walk_in'"
        " WHEN 'direct_web' THEN 'web' WHEN 'direct' THEN 'web' ELSE 'ota' END"
    )
    op.create_table(
        "reservation_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reservation_id", sa.String(length=36), sa.ForeignKey("reservations.id"), nullable=False
        ),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("room_type_id", sa.Integer(), sa.ForeignKey("room_types.id"), nullable=False),
        sa.Column("rate_plan_code", sa.String(length=16), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children_ages", sa.JSON(), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("nightly_amounts", sa.JSON(), nullable=False),
        sa.Column("tax_amount", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.UniqueConstraint("reservation_id", "line", name="uq_reservation_lines_line"),
    )


def downgrade() -> None:
    op.drop_table("reservation_lines")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_index("ix_reservations_channel_status")
        batch.drop_constraint("uq_reservations_channel_external_id", type_="unique")
        for column in ("room_count", "external_id", "source", "requests", "children_ages"):
            batch.drop_column(column)
        batch.drop_column("adults")

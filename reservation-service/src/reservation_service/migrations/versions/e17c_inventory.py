"""Issue 17: room type attributes, room numbers unique per property, out-of-order periods

Revision ID: e17c_inventory
Revises: e17a_history
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17c_inventory"
down_revision: str | None = "e17b_rates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite reflects the initial schema's unnamed unique on rooms.number without a name: the
# convention names it so batch mode can drop it. PostgreSQL named it itself.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique() -> tuple[str, dict[str, str]]:
    if op.get_bind().dialect.name == "sqlite":
        return "uq_rooms_number", _SQLITE_NAMES
    return "rooms_number_key", {}


def upgrade() -> None:
    # Plain ADD COLUMN: batch mode would copy room_types, which SQLite cannot drop under the
    # rows referencing it (foreign keys are on). So the floor-range CHECK exists on PostgreSQL
    # only; on SQLite the API's validation is the rule.
    for flag in ("smoking", "accessible"):
        op.add_column(
            "room_types", sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.add_column("room_types", sa.Column("min_floor", sa.Integer(), nullable=True))
    op.add_column("room_types", sa.Column("max_floor", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(
            "ck_room_types_floor_range",
            "room_types",
            "min_floor IS NULL OR max_floor IS NULL OR min_floor <= max_floor",
        )
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("property_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE rooms SET property_id ="
        " (SELECT room_types.property_id FROM room_types WHERE room_types.id = rooms.room_type_id)"
    )
    old, names = _old_unique()
    with op.batch_alter_table("rooms", naming_convention=names) as batch:
        batch.alter_column("property_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_rooms_property_id_properties", "properties", ["property_id"], ["id"]
        )
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_rooms_property_number", ["property_id", "number"])
    op.create_table(
        "room_out_of_order",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room_id", sa.Integer(), sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("property_id", sa.Integer(), sa.ForeignKey("properties.id"), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("to_date >= from_date", name="ck_room_out_of_order_dates"),
    )
    with op.batch_alter_table("room_out_of_order") as batch:
        batch.create_index(
            "ix_room_out_of_order_room_dates", ["room_id", "from_date", "to_date"], unique=False
        )
        batch.create_index(
            batch.f("ix_room_out_of_order_property_id"), ["property_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("room_out_of_order")
    old, names = _old_unique()
    with op.batch_alter_table("rooms", naming_convention=names) as batch:
        batch.drop_constraint("uq_rooms_property_number", type_="unique")
        batch.create_unique_constraint(old, ["number"])
        batch.drop_constraint("fk_rooms_property_id_properties", type_="foreignkey")
        batch.drop_column("property_id")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_room_types_floor_range", "room_types", type_="check")
    for column in ("max_floor", "min_floor", "accessible", "smoking"):
        op.drop_column("room_types", column)

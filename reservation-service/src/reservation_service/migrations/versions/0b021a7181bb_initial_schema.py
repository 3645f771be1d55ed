"""Initial schema: catalog, inventory nights, reservations, and the shared outbox, inbox and
idempotency tables.

Revision ID: 0b021a7181bb
Revises:
Create Date: 2026-11-25 13:14:39.077073
"""

# The shared tables this revision used to create have their own history since issue 14
# (hotel_common/common_migrations), which runs first.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0b021a7181bb"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "properties",
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("check_in_time", sa.Time(), nullable=False),
        sa.Column("check_out_time", sa.Time(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "room_types",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("bed_type", sa.String(length=40), nullable=False),
        sa.Column("base_price", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("property_id", "code", name="uq_room_types_property_code"),
    )
    with op.batch_alter_table("room_types", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_room_types_property_id"), ["property_id"], unique=False
        )

    op.create_table(
        "inventory_nights",
        sa.Column("room_type_id", sa.Integer(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.CheckConstraint("held >= 0", name="ck_inventory_nights_held_not_negative"),
        sa.ForeignKeyConstraint(
            ["room_type_id"],
            ["room_types.id"],
        ),
        sa.PrimaryKeyConstraint("room_type_id", "night"),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("confirmation_number", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("guest_name", sa.String(length=200), nullable=False),
        sa.Column("guest_email", sa.String(length=320), nullable=False),
        sa.Column("guest_phone", sa.String(length=16), nullable=True),
        sa.Column("guest_language", sa.String(length=8), nullable=False),
        sa.Column("room_type_id", sa.Integer(), nullable=False),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("nightly_price", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("special_requests", sa.Text(), nullable=True),
        sa.Column("transfer_flight_number", sa.String(length=10), nullable=True),
        sa.Column("transfer_arrival_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transfer_pickup_place", sa.String(length=200), nullable=True),
        sa.Column("transfer_passengers", sa.Integer(), nullable=True),
        sa.Column("transfer_luggage", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("check_out > check_in", name="ck_reservations_stay_dates"),
        sa.ForeignKeyConstraint(
            ["room_type_id"],
            ["room_types.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("confirmation_number"),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservations_check_in"), ["check_in"], unique=False)
        batch_op.create_index("ix_reservations_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reservations_guest_email"), ["guest_email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reservations_room_type_id"), ["room_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reservations_status"), ["status"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=10), nullable=False),
        sa.Column("room_type_id", sa.Integer(), nullable=False),
        sa.Column("housekeeping_status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_type_id"],
            ["room_types.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rooms_room_type_id"), ["room_type_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rooms_room_type_id"))

    op.drop_table("rooms")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_status"))
        batch_op.drop_index(batch_op.f("ix_reservations_room_type_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_guest_email"))
        batch_op.drop_index("ix_reservations_created")
        batch_op.drop_index(batch_op.f("ix_reservations_check_in"))

    op.drop_table("reservations")
    op.drop_table("inventory_nights")
    with op.batch_alter_table("room_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_types_property_id"))

    op.drop_table("room_types")
    op.drop_table("properties")

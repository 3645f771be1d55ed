"""initial schema

Revision ID: fe5478334b1d
Revises:
Create Date: 2026-11-25 13:05:41.112334
"""

# The shared tables this revision used to create have their own history since issue 14
# (hotel_common/common_migrations), which runs first.

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = "fe5478334b1d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drivers",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("licence_number"),
    )
    op.create_table(
        "vehicles",
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("vehicle_class", sa.String(length=20), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("luggage_capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plate"),
    )
    op.create_table(
        "transfer_jobs",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("reservation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("confirmation_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("guest_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("guest_email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("guest_phone", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("guest_language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("flight_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("pickup_place", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("destination", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pickup_time", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("driver_on_site_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column("property_timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("passengers", sa.Integer(), nullable=False),
        sa.Column("luggage", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reservation_id", "kind", name="uq_transfer_jobs_reservation_kind"),
    )
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_jobs_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transfer_jobs_pickup_date"), ["pickup_date"], unique=False
        )
        batch_op.create_index("ix_transfer_jobs_pickup_order", ["pickup_time", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfer_jobs_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transfer_jobs_vehicle_id"), ["vehicle_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_jobs_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_jobs_status"))
        batch_op.drop_index("ix_transfer_jobs_pickup_order")
        batch_op.drop_index(batch_op.f("ix_transfer_jobs_pickup_date"))
        batch_op.drop_index(batch_op.f("ix_transfer_jobs_driver_id"))

    op.drop_table("transfer_jobs")
    op.drop_table("vehicles")
    op.drop_table("drivers")

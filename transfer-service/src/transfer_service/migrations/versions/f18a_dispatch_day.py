"""Issue 18: a dispatcher's day. Vehicle equipment and upkeep, driver licences, shifts and
limits, places and travel times, departures and ad-hoc jobs with their needs, live steps,
incidents, flight updates, the audit trail, fares and receipts.

Revision ID: f18a_dispatch_day
Revises: e17_withdrawn_pickups
Create Date: 2026-12-01 16:34:16.718292
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = "f18a_dispatch_day"
down_revision: str | None = "e17_withdrawn_pickups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flight_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flight_number", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("flight_date", sa.Date(), nullable=False),
        sa.Column("new_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("jobs_affected", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flight_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_flight_updates_flight", ["flight_number", "flight_date"], unique=False
        )

    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("transfer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("transfer_id"),
    )
    op.create_table(
        "transfer_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transfer_audit", schema=None) as batch_op:
        batch_op.create_index("ix_transfer_audit_transfer_at", ["transfer_id", "at"], unique=False)

    op.create_table(
        "driver_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("driver_shifts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_driver_shifts_driver_starts", ["driver_id", "starts_at"], unique=False
        )

    op.create_table(
        "fares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_class", sa.String(length=20), nullable=False),
        sa.Column("from_place_id", sa.Integer(), nullable=False),
        sa.Column("to_place_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_place_id"],
            ["places.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_place_id"],
            ["places.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vehicle_class", "from_place_id", "to_place_id"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "travel_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_place_id", sa.Integer(), nullable=False),
        sa.Column("to_place_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_place_id"],
            ["places.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_place_id"],
            ["places.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_place_id", "to_place_id"),
    )
    op.create_table(
        "vehicle_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vehicle_maintenance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vehicle_maintenance_vehicle_id"), ["vehicle_id"], unique=False
        )

    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("licence_expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("shift_start", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("shift_end", sa.Time(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "daily_driving_limit_minutes", sa.Integer(), nullable=False, server_default="540"
            )
        )
        batch_op.add_column(
            sa.Column("min_rest_minutes", sa.Integer(), nullable=False, server_default="660")
        )

    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transport", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("flight_time", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pickup_place_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("destination_place_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("busy_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("busy_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("driven_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("child_seats", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("wheelchair", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sign_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("share_ok", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("ride_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="booking")
        )
        batch_op.add_column(
            sa.Column(
                "uncovered_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("fare_amount", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("fare_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True)
        )
        batch_op.add_column(
            sa.Column("fare_included", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("waiting_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("en_route_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("on_site_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("on_board_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("no_show_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("reservation_id", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.alter_column("confirmation_number", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.create_index(batch_op.f("ix_transfer_jobs_ride_id"), ["ride_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_transfer_jobs_pickup_place", "places", ["pickup_place_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_transfer_jobs_destination_place", "places", ["destination_place_id"], ["id"]
        )
    # A job's crew window before travel times existed: on site until the end of the ride.
    op.execute("UPDATE transfer_jobs SET busy_from = driver_on_site_at, busy_until = ends_at")
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.alter_column("busy_from", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column(
            "busy_until", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("child_seats", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "wheelchair_accessible", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("odometer_km", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("next_service_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_column("next_service_date")
        batch_op.drop_column("odometer_km")
        batch_op.drop_column("wheelchair_accessible")
        batch_op.drop_column("child_seats")

    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_transfer_jobs_destination_place", type_="foreignkey")
        batch_op.drop_constraint("fk_transfer_jobs_pickup_place", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_transfer_jobs_ride_id"))
        batch_op.alter_column("confirmation_number", existing_type=sa.VARCHAR(), nullable=False)
        batch_op.alter_column("reservation_id", existing_type=sa.VARCHAR(), nullable=False)
        batch_op.drop_column("no_show_at")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("on_board_at")
        batch_op.drop_column("on_site_at")
        batch_op.drop_column("en_route_at")
        batch_op.drop_column("waiting_minutes")
        batch_op.drop_column("fare_included")
        batch_op.drop_column("fare_currency")
        batch_op.drop_column("fare_amount")
        batch_op.drop_column("version")
        batch_op.drop_column("flags")
        batch_op.drop_column("uncovered_reason")
        batch_op.drop_column("source")
        batch_op.drop_column("ride_id")
        batch_op.drop_column("share_ok")
        batch_op.drop_column("notes")
        batch_op.drop_column("sign_name")
        batch_op.drop_column("language")
        batch_op.drop_column("wheelchair")
        batch_op.drop_column("child_seats")
        batch_op.drop_column("driven_minutes")
        batch_op.drop_column("busy_until")
        batch_op.drop_column("busy_from")
        batch_op.drop_column("destination_place_id")
        batch_op.drop_column("pickup_place_id")
        batch_op.drop_column("flight_time")
        batch_op.drop_column("transport")

    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_column("min_rest_minutes")
        batch_op.drop_column("daily_driving_limit_minutes")
        batch_op.drop_column("shift_end")
        batch_op.drop_column("shift_start")
        batch_op.drop_column("licence_expires_on")

    with op.batch_alter_table("vehicle_maintenance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_maintenance_vehicle_id"))

    op.drop_table("vehicle_maintenance")
    op.drop_table("travel_times")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_driver_id"))

    op.drop_table("incidents")
    op.drop_table("fares")
    with op.batch_alter_table("driver_shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_driver_shifts_driver_starts")

    op.drop_table("driver_shifts")
    with op.batch_alter_table("transfer_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_audit_transfer_at")

    op.drop_table("transfer_audit")
    op.drop_table("receipts")
    op.drop_table("places")
    with op.batch_alter_table("flight_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_flight_updates_flight")

    op.drop_table("flight_updates")

"""Issue 17: the stay (room assignments, ID verifications, folio lines)

A room is never assigned to two overlapping stays: on PostgreSQL an exclusion constraint over
(room_id, daterange(starts_on, ends_on)) with btree_gist (a trusted extension: the database
owner may create it); SQLite checks the insert in its IMMEDIATE transaction (assignment.py).

Revision ID: e17f_stay
Revises: e17a_history
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17f_stay"
down_revision: str | None = "e17e_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "room_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reservation_id", sa.String(length=36), sa.ForeignKey("reservations.id"), nullable=False
        ),
        sa.Column("room_id", sa.Integer(), sa.ForeignKey("rooms.id"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name="ck_room_assignments_dates"),
        sa.UniqueConstraint("reservation_id", name="uq_room_assignments_reservation"),
    )
    op.create_index("ix_room_assignments_room_starts", "room_assignments", ["room_id", "starts_on"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE room_assignments ADD CONSTRAINT ex_room_assignments_no_overlap"
            " EXCLUDE USING gist (room_id WITH =, daterange(starts_on, ends_on, '[)') WITH &&)"
        )
    op.create_table(
        "id_verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reservation_id",
            sa.String(length=36),
            sa.ForeignKey("reservations.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("document_type", sa.String(length=20), nullable=False),
        sa.Column("issuing_country", sa.String(length=2), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "folio_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "reservation_id", sa.String(length=36), sa.ForeignKey("reservations.id"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("night", sa.Date(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_reference", sa.String(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_folio_lines_amount_not_zero"),
        sa.UniqueConstraint("reservation_id", "kind", "night", name="uq_folio_lines_night"),
    )
    op.create_index("ix_folio_lines_reservation", "folio_lines", ["reservation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_folio_lines_reservation", table_name="folio_lines")
    op.drop_table("folio_lines")
    op.drop_table("id_verifications")
    op.drop_index("ix_room_assignments_room_starts", table_name="room_assignments")
    op.drop_table("room_assignments")  # its exclusion constraint goes with it

"""Issue 19: the guest's rights: consents per channel and purpose (a history), contact
preferences, and the record of exports and erasures

Revision ID: f19c_rights
Revises: f19d_merging
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19c_rights"
down_revision: str | None = "f19d_merging"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guest_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_consents_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_consents_guest_at", "guest_consents", ["guest_id", "at", "id"])
    op.create_table(
        "guest_contact_preferences",
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("quiet_timezone", sa.String(length=64), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guests.id"], name="fk_guest_contact_preferences_guest_id"
        ),
        sa.PrimaryKeyConstraint("guest_id"),
    )
    op.create_table(
        "guest_rights_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guests.id"], name="fk_guest_rights_requests_guest_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_rights_requests_guest", "guest_rights_requests", ["guest_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_guest_rights_requests_guest", table_name="guest_rights_requests")
    op.drop_table("guest_rights_requests")
    op.drop_table("guest_contact_preferences")
    op.drop_index("ix_guest_consents_guest_at", table_name="guest_consents")
    op.drop_table("guest_consents")

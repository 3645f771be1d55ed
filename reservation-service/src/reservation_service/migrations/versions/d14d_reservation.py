"""Issue 14 vocabulary: money fields are `<name>_amount`, a language is a BCP-47 tag

Revision ID: d14d_reservation
Revises: c13b_versions
Create Date: 2026-12-01 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d14d_reservation"
down_revision: str | None = "c13b_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("room_types") as batch:
        batch.alter_column("base_price", new_column_name="base_amount")
    with op.batch_alter_table("reservations") as batch:
        batch.alter_column("nightly_price", new_column_name="nightly_amount")
        # hotel_common.contacts.LANGUAGE_TAG_MAX_LENGTH
        batch.alter_column(
            "guest_language",
            type_=sa.String(length=35),
            existing_type=sa.String(length=8),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.alter_column(
            "guest_language",
            type_=sa.String(length=8),
            existing_type=sa.String(length=35),
            existing_nullable=False,
        )
        batch.alter_column("nightly_amount", new_column_name="nightly_price")
    with op.batch_alter_table("room_types") as batch:
        batch.alter_column("base_amount", new_column_name="base_price")

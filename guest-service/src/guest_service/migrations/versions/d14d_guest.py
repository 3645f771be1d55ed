"""Issue 14 vocabulary: a guest's language is a BCP-47 tag (up to 35 characters)

Revision ID: d14d_guest
Revises: c13a_shared_tables
Create Date: 2026-12-01 03:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d14d_guest"
down_revision: str | None = "c13a_shared_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guests") as batch:
        # hotel_common.contacts.LANGUAGE_TAG_MAX_LENGTH
        batch.alter_column(
            "language", type_=sa.String(length=35), existing_type=sa.String(length=8)
        )


def downgrade() -> None:
    with op.batch_alter_table("guests") as batch:
        batch.alter_column(
            "language", type_=sa.String(length=8), existing_type=sa.String(length=35)
        )

"""Issue 14: one contact vocabulary. A driver's phone is E.164 ("+" and at most 15 digits, 16
characters; numbers stored without their "+" get it), and a guest's language is a BCP-47 tag
of up to 35 characters.

Revision ID: d14e_transfer
Revises: c13b_versions
Create Date: 2026-12-01 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d14e_transfer"
down_revision: str | None = "c13b_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The old rule let digits without "+" in; they were always international numbers.
    op.execute("UPDATE drivers SET phone = '+' || phone WHERE phone NOT LIKE '+%'")
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=20), type_=sa.String(length=16)
        )
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "guest_language", existing_type=sa.String(length=10), type_=sa.String(length=35)
        )


def downgrade() -> None:
    with op.batch_alter_table("transfer_jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "guest_language", existing_type=sa.String(length=35), type_=sa.String(length=10)
        )
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=16), type_=sa.String(length=20)
        )

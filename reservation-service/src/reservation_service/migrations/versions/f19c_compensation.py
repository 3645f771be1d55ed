"""Issue 19: complaint compensation on the folio, one line per case

Revision ID: f19c_compensation
Revises: f19l_member_rates
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19c_compensation"
down_revision: str | None = "f19l_member_rates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("folio_lines") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_folio_lines_reference", ["reference"])


def downgrade() -> None:
    with op.batch_alter_table("folio_lines") as batch:
        batch.drop_constraint("uq_folio_lines_reference", type_="unique")
        batch.drop_column("reference")

"""Issue 17: a stay follows its booking's changes (by version) and records its check-out

Revision ID: e17_guest
Revises: d14d_guest
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e17_guest"
down_revision: str | None = "d14d_guest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain nullable ADD COLUMNs: stays linked before know no version and no check-out yet.
    op.add_column("guest_stays", sa.Column("nights", sa.Integer(), nullable=True))
    op.add_column("guest_stays", sa.Column("amount_spent", sa.Integer(), nullable=True))
    op.add_column("guest_stays", sa.Column("reservation_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guest_stays") as batch:
        batch.drop_column("reservation_version")
        batch.drop_column("amount_spent")
        batch.drop_column("nights")

"""reservation versions: on the cancellation tombstone and on the job

Revision ID: c13b_versions
Revises: c13a_shared_tables
Create Date: 2026-11-30 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c13b_versions"
down_revision: str | None = "c13a_shared_tables"  # the shared-tables revision
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: rows written before events carried versions have none, and compare as unknown.
    op.add_column("cancelled_reservations", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column("transfer_jobs", sa.Column("reservation_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfer_jobs") as batch:
        batch.drop_column("reservation_version")
    with op.batch_alter_table("cancelled_reservations") as batch:
        batch.drop_column("version")

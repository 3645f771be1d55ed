"""Issue 21: the partner whose booking a notice is about (only those publish
notice.status_changed)

Revision ID: g21a_notice_partner
Revises: g20c_reminders
Create Date: 2026-12-02 04:20:35
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import Column
from sqlmodel.sql.sqltypes import AutoString

revision: str = "g21a_notice_partner"
down_revision: str | None = "g20c_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: existing notices (and a direct booking's) publish nothing.
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(Column("partner_id", AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("partner_id")

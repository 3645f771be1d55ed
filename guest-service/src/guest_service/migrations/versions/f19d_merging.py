"""Issue 19: merging: merge suggestions (one per pair of profiles, scored, with reasons) and
merges (survivor, absorbed, who, when, a memo per part of the CRM for the undo)

Revision ID: f19d_merging
Revises: f19b_profiles
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19d_merging"
down_revision: str | None = "f19b_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merge_suggestions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("first_id", sa.String(length=36), nullable=False),
        sa.Column("second_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["first_id"], ["guests.id"], name="fk_merge_suggestions_first_id"),
        sa.ForeignKeyConstraint(
            ["second_id"], ["guests.id"], name="fk_merge_suggestions_second_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_merge_suggestions_pair", "merge_suggestions", ["first_id", "second_id"], unique=True
    )
    op.create_index(
        "ix_merge_suggestions_list", "merge_suggestions", ["status", "score", "created_at", "id"]
    )
    op.create_index("ix_merge_suggestions_second", "merge_suggestions", ["second_id"])
    op.create_table(
        "guest_merges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survivor_id", sa.String(length=36), nullable=False),
        sa.Column("absorbed_id", sa.String(length=36), nullable=False),
        sa.Column("suggestion_id", sa.String(length=36), nullable=True),
        sa.Column("merged_by", sa.String(length=200), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.JSON(), nullable=False),
        sa.Column("undone_by", sa.String(length=200), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["guests.id"], name="fk_guest_merges_survivor_id"),
        sa.ForeignKeyConstraint(["absorbed_id"], ["guests.id"], name="fk_guest_merges_absorbed_id"),
        sa.ForeignKeyConstraint(
            ["suggestion_id"], ["merge_suggestions.id"], name="fk_guest_merges_suggestion_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_merges_survivor", "guest_merges", ["survivor_id"])
    op.create_index("ix_guest_merges_absorbed", "guest_merges", ["absorbed_id"])


def downgrade() -> None:
    op.drop_index("ix_guest_merges_absorbed", table_name="guest_merges")
    op.drop_index("ix_guest_merges_survivor", table_name="guest_merges")
    op.drop_table("guest_merges")
    op.drop_index("ix_merge_suggestions_second", table_name="merge_suggestions")
    op.drop_index("ix_merge_suggestions_list", table_name="merge_suggestions")
    op.drop_index("ix_merge_suggestions_pair", table_name="merge_suggestions")
    op.drop_table("merge_suggestions")

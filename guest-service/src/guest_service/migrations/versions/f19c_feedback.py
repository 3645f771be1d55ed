"""Issue 19: feedback: surveys after stays and rides, answers (anonymous allowed), follow-up
calls after stays, complaint cases and their steps

Revision ID: f19c_feedback
Revises: f19c_rights
Create Date: 2026-12-01 20:12:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19c_feedback"
down_revision: str | None = "f19c_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("demand", sa.Text(), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("responsible", sa.String(length=200), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        sa.Column("compensation_kind", sa.String(length=16), nullable=False),
        sa.Column("compensation_amount", sa.Integer(), nullable=True),
        sa.Column("compensation_currency", sa.String(length=3), nullable=True),
        sa.Column("compensation_points", sa.Integer(), nullable=True),
        sa.Column("voucher_code", sa.String(length=32), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("guest_reaction", sa.Text(), nullable=True),
        sa.Column("waiting_on_guest", sa.Boolean(), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("paused_seconds >= 0", name="ck_complaints_paused_seconds"),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_complaints_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_complaints_case_number", "complaints", ["case_number"], unique=True)
    op.create_index("ix_complaints_created", "complaints", ["created_at", "id"], unique=False)
    op.create_index("ix_complaints_guest", "complaints", ["guest_id"], unique=False)
    op.create_index(
        "ix_complaints_open",
        "complaints",
        ["status", "response_due_at", "resolution_due_at"],
        unique=False,
    )

    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("about", sa.String(length=16), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_surveys_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_surveys_due", "surveys", ["status", "send_at"], unique=False)
    op.create_index("ix_surveys_guest", "surveys", ["guest_id"], unique=False)
    op.create_index("ix_surveys_subject", "surveys", ["subject"], unique=True)
    op.create_index("ix_surveys_token_hash", "surveys", ["token_hash"], unique=True)

    op.create_table(
        "complaint_steps",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name="fk_complaint_steps_complaint_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_complaint_steps_case", "complaint_steps", ["complaint_id", "at", "id"], unique=False
    )

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("confirmation_number", sa.String(length=64), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        sa.Column("survey_id", sa.String(length=36), nullable=True),
        sa.Column("checked_out_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_by", sa.String(length=100), nullable=True),
        sa.Column("satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("suggestions", sa.Text(), nullable=True),
        sa.Column("plans_to_return", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name="ck_follow_ups_satisfaction"),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_follow_ups_guest_id"),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name="fk_follow_ups_survey_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_follow_ups_guest", "follow_ups", ["guest_id"], unique=False)
    op.create_index("ix_follow_ups_open", "follow_ups", ["status", "due_on", "id"], unique=False)
    op.create_index("ix_follow_ups_reservation", "follow_ups", ["reservation_id"], unique=True)

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=True),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("about", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("rating_room", sa.SmallInteger(), nullable=True),
        sa.Column("rating_cleanliness", sa.SmallInteger(), nullable=True),
        sa.Column("rating_staff", sa.SmallInteger(), nullable=True),
        sa.Column("rating_transfer", sa.SmallInteger(), nullable=True),
        sa.Column("rating_value", sa.SmallInteger(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.CheckConstraint("nps BETWEEN 0 AND 10", name="ck_survey_responses_nps"),
        sa.CheckConstraint(
            "rating_cleanliness BETWEEN 1 AND 5", name="ck_survey_responses_cleanliness"
        ),
        sa.CheckConstraint("rating_room BETWEEN 1 AND 5", name="ck_survey_responses_room"),
        sa.CheckConstraint("rating_staff BETWEEN 1 AND 5", name="ck_survey_responses_staff"),
        sa.CheckConstraint("rating_transfer BETWEEN 1 AND 5", name="ck_survey_responses_transfer"),
        sa.CheckConstraint("rating_value BETWEEN 1 AND 5", name="ck_survey_responses_value"),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_survey_responses_guest_id"),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name="fk_survey_responses_survey_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_survey_responses_day", "survey_responses", ["answered_on", "about"], unique=False
    )
    op.create_index("ix_survey_responses_guest", "survey_responses", ["guest_id"], unique=False)
    op.create_index("ix_survey_responses_survey", "survey_responses", ["survey_id"], unique=True)


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("follow_ups")
    op.drop_table("complaint_steps")
    op.drop_table("surveys")
    op.drop_table("complaints")

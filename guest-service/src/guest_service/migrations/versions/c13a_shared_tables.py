"""Shared tables (issue 13): outbox rows can be set aside and parked.

Revision ID: c13a_shared_tables
Revises: 08e0c810433a
Create Date: 2026-11-30 20:45:00
"""

from collections.abc import Sequence


revision: str = "c13a_shared_tables"
down_revision: str | None = "08e0c810433a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the shared tables have their own history since issue 14


def downgrade() -> None:
    pass

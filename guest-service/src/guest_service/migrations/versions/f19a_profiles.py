"""Issue 19: protected profiles: the profile's fields, contacts in their own table (sealed, found
by keyed hash), a status for merged and erased profiles

Revision ID: f19a_profiles
Revises: e17_guest
Create Date: 2026-12-01 20:06:15
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19a_profiles"
down_revision: str | None = "e17_guest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The old email and phone columns move to guest_contacts as they are (plaintext, no hash yet):
# the lookup key lives in the service's settings, not here, so the service's start-up pass
# (reencrypt.py) seals them and computes their hashes before it consumes any event.
LEGACY_HASH = "legacy"


def upgrade() -> None:
    op.create_table(
        "guest_contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("unique_key", sa.String(length=64), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guests.id"], name="fk_guest_contacts_guest_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_guest_contacts_guest", "guest_contacts", ["guest_id", "kind"])
    op.create_index("ix_guest_contacts_lookup", "guest_contacts", ["kind", "value_hash"])
    op.create_index("ix_guest_contacts_unique_key", "guest_contacts", ["unique_key"], unique=True)

    bind = op.get_bind()
    old = bind.execute(sa.text("SELECT id, email, phone, created_at FROM guests")).all()
    contacts = sa.table(
        "guest_contacts",
        *(sa.column(c) for c in ("id", "guest_id", "kind", "value", "value_hash")),
        *(sa.column(c) for c in ("unique_key", "is_primary", "source", "created_at")),
    )
    rows = [
        {
            "id": str(uuid.uuid4()),
            "guest_id": guest_id,
            "kind": kind,
            "value": value,
            "value_hash": LEGACY_HASH,
            "unique_key": None,
            "is_primary": True,
            "source": "migration",
            "created_at": created_at,
        }
        for guest_id, email, phone, created_at in old
        for kind, value in (("email", email), ("phone", phone))
        if value
    ]
    if rows:
        op.bulk_insert(contacts, rows)

    with op.batch_alter_table("guests") as batch:
        for name in ("native_name", "latin_name"):
            batch.add_column(sa.Column(name, sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("gender", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("birth_date", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("nationality", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("company", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("document_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("document_number", sa.Text(), nullable=True))
        batch.add_column(sa.Column("document_expiry", sa.Date(), nullable=True))
        batch.add_column(sa.Column("document_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("identity_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("vip_level", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("preferences", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("referrer_id", sa.String(length=36), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("merged_into_id", sa.String(length=36), nullable=True))
        batch.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_index("ix_guests_email")
        batch.drop_index("ix_guests_phone")
        batch.create_index("ix_guests_document_hash", ["document_hash"])
        batch.create_index("ix_guests_identity_hash", ["identity_hash"])
        batch.create_index("ix_guests_status", ["status"])
        batch.create_foreign_key("fk_guests_referrer_id", "guests", ["referrer_id"], ["id"])
        batch.drop_column("email")
        batch.drop_column("phone")


def downgrade() -> None:
    # Contacts do not go back into single columns (several per profile, sealed): a downgrade
    # past this revision starts the profiles' contacts afresh.
    with op.batch_alter_table("guests") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.drop_constraint("fk_guests_referrer_id", type_="foreignkey")
        batch.drop_index("ix_guests_status")
        batch.drop_index("ix_guests_identity_hash")
        batch.drop_index("ix_guests_document_hash")
        batch.create_index("ix_guests_phone", ["phone"], unique=True)
        batch.create_index("ix_guests_email", ["email"], unique=True)
        for name in (
            "erased_at", "version", "merged_into_id", "status", "referrer_id", "notes",
            "preferences", "tags", "vip_level", "identity_hash", "document_hash",
            "document_expiry", "document_number", "document_type", "company", "address",
            "nationality", "birth_date", "gender", "latin_name", "native_name",
        ):  # fmt: skip
            batch.drop_column(name)
    op.drop_table("guest_contacts")

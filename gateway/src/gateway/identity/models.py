"""The identity store's tables. Secrets are never stored: passwords as Argon2 hashes, refresh
tokens, partner keys and sign-in codes as hashes (see secrets.py)."""

from datetime import datetime

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # lower-case
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    properties: list[int] | None = Field(default=None, sa_type=JSON)  # None: every property
    driver_id: int | None = None
    active: bool = True
    # Lockout: failures counted from the first one in the current window.
    failed_logins: int = 0
    first_failed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RefreshToken(SQLModel, table=True):
    """One refresh token of a rotating family: each use spends it and issues the next; a spent
    one presented again means it was stolen, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    id: str = Field(primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Partner(SQLModel, table=True):
    __tablename__ = "partners"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    channel: str = Field(max_length=40)  # the channel code its bookings carry
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PartnerKey(SQLModel, table=True):
    __tablename__ = "partner_keys"

    id: str = Field(primary_key=True, max_length=32)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=32)
    key_hash: str = Field(max_length=64, unique=True)  # sha256: keys are 256-bit random
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # rotation overlap
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SignInCode(SQLModel, table=True):
    __tablename__ = "sign_in_codes"
    __table_args__ = (Index("ix_sign_in_codes_address_created", "address", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=260)  # "email:<address>" or "phone:<E.164>"
    code_hash: str = Field(max_length=64)  # HMAC: six digits alone are quickly guessed
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_action", "action", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=120, index=True)  # principal id, or the email tried
    actor_kind: str = Field(max_length=20)
    action: str = Field(max_length=60)
    target: str | None = Field(default=None, max_length=200)
    ip: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=20)  # success | failure | refused
    detail: str | None = Field(default=None, max_length=500)

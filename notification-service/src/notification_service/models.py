"""The delivery log: one row per notice, from queued to sent, logged or failed."""

import uuid
from datetime import datetime
from typing import Literal

from hotel_common.time import as_utc, utcnow
from pydantic import field_validator
from sqlalchemy import DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

Kind = Literal["reservation_confirmed", "transfer_assigned", "reservation_cancelled"]
Status = Literal["queued", "sent", "logged", "failed"]
Channel = Literal["email"]
KINDS: tuple[Kind, ...] = ("reservation_confirmed", "transfer_assigned", "reservation_cancelled")

TABLES = {"notifications"}


class NotificationBase(SQLModel):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    kind: str = Field(max_length=40)
    reservation_id: str = Field(max_length=64)
    confirmation_number: str = Field(max_length=64)
    channel: str = Field(default="email", max_length=20)
    recipient: str = Field(max_length=320)
    language: str = Field(max_length=16)
    subject: str = Field(max_length=500)
    status: str = Field(default="queued", max_length=10)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Notification(NotificationBase, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        # Second guard besides the inbox: one notice of a kind per event, whatever happens.
        UniqueConstraint("event_id", "kind", name="uq_notifications_event_kind"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_created", "created_at", "id"),
        # The list filter matches addresses whatever their case.
        Index("ix_notifications_recipient", text("lower(recipient)")),
    )

    event_id: str = Field(max_length=36)
    reservation_id: str = Field(max_length=64, index=True)
    body: str = Field(sa_type=Text)
    # When the sender may next pick it up (also the lease end while a sender holds it).
    next_attempt_at: datetime | None = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True)
    )


class NotificationPublic(SQLModel):
    id: str
    kind: Kind
    channel: Channel
    reservation_id: str
    confirmation_number: str
    recipient: str
    language: str
    subject: str
    status: Status
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @field_validator("created_at", "sent_at", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)


class NotificationDetail(NotificationPublic):
    event_id: str
    body: str
    next_attempt_at: datetime | None

    @field_validator("next_attempt_at", mode="after")
    @classmethod
    def _utc_next(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

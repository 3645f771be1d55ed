"""Webhook subscriptions, their delivery log and redelivery jobs (tables and the rules on them).

A subscription is a cursor over its partner's feed: `delivered_through` is the last feed number
it is done with (sent and acknowledged, refused for good, or not of its types). The sender
(delivery.py) takes the next entry after it, one at a time, so deliveries are in cursor order
and at least once. A subscription made today starts at its partner's current number: it gets
what happens from now on (older entries: the feed, or a redelivery).

Several replicas send: a subscription is claimed with a lease (`lease_owner`, `lease_until`),
taken by a compare-and-set UPDATE that works the same on PostgreSQL and SQLite; the lease is
renewed on each send and outlives one request by a margin, so two replicas never send one
subscription at once.
"""

import base64
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from hotel_common.events.inbox import lock_aggregate
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service.models import PARTNER_ID_MAX, FeedPartner

ACTIVE = "active"
DISABLED = "disabled"
ALL_TYPES = "*"
URL_MAX = 2000
ERROR_MAX = 500  # a delivery's error text is kept this long (a partner's answer is not stored)
SECRET_PREFIX = "whsec_"
SUBSCRIPTIONS_PER_PARTNER = 10
# After a rotation the old secret still signs (a second signature) this long.
ROTATION_OVERLAP = timedelta(hours=24)
EVENT_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")

# Outcomes of one attempt (DeliveryAttempt.outcome).
DELIVERED = "delivered"  # 2xx: the subscription moves on
FAILED = "failed"  # timeout, connection error, 5xx, 408, 429: the same entry again later
NOT_RETRIED = "not_retried"  # 3xx, other 4xx: recorded, the subscription moves on
REFUSED = "refused"  # the target is not allowed (private address after DNS): retried later


def new_id() -> str:
    return uuid.uuid4().hex


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (Standard Webhooks' format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_due", "status", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    partner_id: str = Field(max_length=PARTNER_ID_MAX, index=True)
    url: str = Field(max_length=URL_MAX)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))  # or ["*"]
    secret: str = Field(max_length=100)
    # The secret before the last rotation, still signing until `previous_secret_until`.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    contact_email: str | None = Field(default=None, max_length=320)
    description: str | None = Field(default=None, max_length=500)
    status: str = Field(default=ACTIVE, max_length=16)
    disabled_reason: str | None = Field(default=None, max_length=ERROR_MAX)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    delivered_through: int = Field(default=0, sa_type=BigInteger)
    # Since when the entry it is stuck on has failed (None: not failing).
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attempts: int = 0  # attempts at the entry it is on
    last_error: str | None = Field(default=None, max_length=ERROR_MAX)
    last_delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    version: int = 1

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one during the rotation overlap."""
        keys = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            keys.append(self.previous_secret)
        return keys

    def wants(self, event_type: str) -> bool:
        return ALL_TYPES in self.event_types or event_type in self.event_types

    def reset_failing(self) -> None:
        self.failing_since = None
        self.next_attempt_at = None
        self.attempts = 0
        self.last_error = None


class DeliveryAttempt(SQLModel, table=True):
    """One POST (or one refused target), as the partner reads it in the delivery log."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (
        Index("ix_webhook_delivery_attempts_log", "subscription_id", "at", "id"),
        Index("ix_webhook_delivery_attempts_at", "at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscription_id: str = Field(max_length=32)
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=100)
    seq: int = Field(sa_type=BigInteger)
    attempt: int  # 1 for the first attempt at this entry (per pass: a redelivery starts at 1)
    redelivery: bool = False
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    duration_ms: int = 0
    status_code: int | None = None
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, max_length=ERROR_MAX)


class Redelivery(SQLModel, table=True):
    """A partner's request to send entries again: one event (`after_seq` = its seq - 1,
    `through_seq` = its seq) or a cursor range. `next_seq` is how far the sender got."""

    __tablename__ = "webhook_redeliveries"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscription_id: str = Field(max_length=32, index=True)
    after_seq: int = Field(sa_type=BigInteger)
    through_seq: int = Field(sa_type=BigInteger)
    done_through: int = Field(sa_type=BigInteger)  # sent up to here (starts at after_seq)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


def bounded(text: str | None) -> str | None:
    return None if text is None else text[:ERROR_MAX]


async def current_seq(session: AsyncSession, partner_id: str) -> int:
    row = await session.get(FeedPartner, partner_id)
    return row.last_seq if row is not None else 0


async def count_of(session: AsyncSession, partner_id: str) -> int:
    """How many subscriptions the partner has, its lock held to the commit: two creates at
    once (two replicas) would each count 9 and both insert, past the limit."""
    await lock_aggregate(session, f"webhook_partner:{partner_id}")
    rows = await session.exec(
        select(col(WebhookSubscription.id)).where(WebhookSubscription.partner_id == partner_id)
    )
    return len(rows.all())


def disable(subscription: WebhookSubscription, reason: str, now: datetime) -> dict[str, Any]:
    """Mark it disabled; returns the fields of the WebhookSubscriptionDisabled event."""
    subscription.status = DISABLED
    subscription.disabled_reason = bounded(reason)
    subscription.disabled_at = now
    subscription.next_attempt_at = None
    subscription.updated_at = now
    subscription.version += 1
    return {
        "subscription_id": subscription.id,
        "partner_id": subscription.partner_id,
        "url": subscription.url,
        "contact_email": subscription.contact_email,
        "failing_since": subscription.failing_since or now,
        "disabled_at": now,
        "last_error": subscription.last_error,
    }

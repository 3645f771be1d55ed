"""The partners' event feed: per partner, an append-only list in a stable order.

Why not the outbox: it is purged after 7 days and ordered per publisher, while a partner
needs one order over every service's events, kept 30 days. Each partner has its own counter
(`FeedPartner.last_seq`): an entry takes the next number under that row's lock, so entries of
one partner commit in the order of their numbers and a reader that has seen number N never
later finds a smaller one appear (a shared sequence would commit out of order under load).

Tables of the other parts (the bookings a partner owns, mappings, webhook subscriptions and
their deliveries) live beside the code that owns them and are imported here for migrations.
"""

from datetime import datetime
from typing import Any

from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

PARTNER_ID_MAX = 32  # the gateway's partner ids (hex)


class FeedPartner(SQLModel, table=True):
    """One row per partner that has ever had an entry: its counter and what was purged."""

    __tablename__ = "feed_partners"

    partner_id: str = Field(primary_key=True, max_length=PARTNER_ID_MAX)
    last_seq: int = Field(default=0, sa_type=BigInteger)
    # Entries up to and including this number were purged (older than the retention):
    # a cursor below it is 410 Gone.
    purged_through: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class FeedEntry(SQLModel, table=True):
    """One event as one partner sees it. `seq` is the partner's cursor."""

    __tablename__ = "feed_entries"
    __table_args__ = (
        UniqueConstraint("partner_id", "seq", name="uq_feed_entries_partner_seq"),
        # The same event reaches a partner once (a redelivered event is not a second entry).
        UniqueConstraint("partner_id", "event_id", name="uq_feed_entries_partner_event"),
        Index("ix_feed_entries_recorded_at", "recorded_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(max_length=PARTNER_ID_MAX)
    seq: int = Field(sa_type=BigInteger)
    event_id: str = Field(max_length=36)  # the integration event's id (envelope id)
    event_type: str = Field(max_length=100)
    occurred_at: datetime = Field(sa_type=UtcDateTime)  # when the source said it happened
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The booking it is about (None: availability and other property-wide events): erasure
    # and the partner's own-bookings filter find entries by it.
    reservation_id: str | None = Field(default=None, max_length=36, index=True)
    aggregate_version: int | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


# Other modules' tables register here as they are added (migrations see every table).
# A plain module import: subscriptions.py imports this module (no cycle trouble either way).
import partner_service.subscriptions  # noqa: E402, F401
from partner_service import bookings, erasure, mappings  # noqa: E402, F401

"""The feed: appending entries per partner, reading from a cursor, purging (helper: feed).

`append` is the one way an entry is written (handlers, and tests of the webhooks): it takes
the partner's counter row with its lock, so one partner's entries commit in the order of their
numbers (see models.py), and it skips an event the partner already has.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hotel_common.db import after_commit
from hotel_common.service import Runtime
from hotel_common.uniques import locked_or_inserted
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service.config import Settings
from partner_service.models import FeedEntry, FeedPartner


async def append(
    session: AsyncSession,
    partner_id: str,
    *,
    event_id: str,
    event_type: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    reservation_id: str | None = None,
    aggregate_version: int | None = None,
    on_commit: Callable[[], None] | None = None,
) -> FeedEntry | None:
    """Add the event to the partner's feed with the next number, in the caller's transaction
    (never commits); None if the partner has it already. `on_commit` runs once it commits
    (the webhook sender's wake-up)."""
    counter, _ = await locked_or_inserted(
        session, FeedPartner, partner_id, lambda: FeedPartner(partner_id=partner_id)
    )
    seen = await session.exec(
        select(col(FeedEntry.id)).where(
            FeedEntry.partner_id == partner_id, FeedEntry.event_id == event_id
        )
    )
    if seen.first() is not None:
        return None
    counter.last_seq += 1
    entry = FeedEntry(
        partner_id=partner_id,
        seq=counter.last_seq,
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        payload=payload,
        reservation_id=reservation_id,
        aggregate_version=aggregate_version,
    )
    session.add_all([counter, entry])
    if on_commit is not None:
        after_commit(session, on_commit)
    return entry


async def purge_forever(runtime: Runtime[Settings]) -> None:
    """Remove entries older than the retention (not written yet)."""
    await asyncio.Event().wait()

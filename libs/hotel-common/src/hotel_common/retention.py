"""Housekeeping of the shared tables, so they do not grow without end.

- outbox rows, once published: kept a while for inspection, then deleted;
- processed-event ids: kept longer than any redelivery can arrive (retries, replays of
  dead letters), so the idempotent consumer still recognises a late duplicate;
- Idempotency-Keys: a client's retry window; after it the same key is a new request.
"""

import asyncio
import logging

from sqlalchemy import delete
from sqlmodel import col

from hotel_common.db import SessionFactory, transaction
from hotel_common.events.inbox import ProcessedEvent
from hotel_common.events.outbox import OutboxMessage
from hotel_common.idempotency import IdempotencyRecord
from hotel_common.settings import Retention
from hotel_common.time import utcnow

log = logging.getLogger(__name__)


async def purge(sessions: SessionFactory, keep: Retention) -> dict[str, int]:
    """Delete what is past its keeping time; return how many rows per table."""
    now = utcnow()
    statements = {
        "outbox": delete(OutboxMessage).where(
            col(OutboxMessage.published_at).is_not(None),
            col(OutboxMessage.published_at) < now - keep.published_events,
        ),
        "processed_events": delete(ProcessedEvent).where(
            col(ProcessedEvent.processed_at) < now - keep.processed_events
        ),
        "idempotency_keys": delete(IdempotencyRecord).where(
            col(IdempotencyRecord.created_at) < now - keep.idempotency_keys
        ),
    }
    removed = {}
    for table, statement in statements.items():
        async with transaction(sessions) as session:  # one short transaction per table
            removed[table] = (await session.exec(statement)).rowcount
    return removed


async def keep_tidy(sessions: SessionFactory, keep: Retention, every: float = 3600.0) -> None:
    """Purge now and then every `every` seconds, for as long as the service runs."""
    while True:
        try:
            removed = await purge(sessions, keep)
            if any(removed.values()):
                log.info("retention purge", extra={"removed": removed})
        except Exception:
            log.exception("retention purge failed; will try again")
        await asyncio.sleep(every)

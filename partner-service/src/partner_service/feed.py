"""The feed: appending entries per partner, reading from a cursor, purging (helper: feed).

`append` is the one way an entry is written (handlers, and tests of the webhooks): it takes
the partner's counter row with its lock, so one partner's entries commit in the order of their
numbers (see models.py), and it skips an event the partner already has.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotel_common.db import SessionFactory, after_commit
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from hotel_common.uniques import locked_or_inserted
from sqlalchemy import delete, exists, false
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service import bookings, erasure
from partner_service.config import Settings
from partner_service.models import FeedEntry, FeedPartner

log = logging.getLogger(__name__)


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
    # Read the row afresh under its lock: sessions keep objects across commits
    # (expire_on_commit=False), and a number read before another writer's commit would repeat.
    found = await session.get(FeedPartner, partner_id, with_for_update=True, populate_existing=True)
    if found is not None:
        counter = found
    else:
        counter, _ = await locked_or_inserted(
            session, FeedPartner, partner_id, lambda: FeedPartner(partner_id=partner_id)
        )
    # Has the partner this event already? Is the booking's guest erased? One round trip.
    seen = exists().where(
        col(FeedEntry.partner_id) == partner_id, col(FeedEntry.event_id) == event_id
    )
    erased = (
        exists().where(col(erasure.ErasedBooking.reservation_id) == reservation_id)
        if reservation_id is not None
        else false()
    )
    already, late = (await session.exec(select(seen, erased))).one()
    if already:
        return None
    if late:
        payload = erasure.blank_own(payload)  # a late event of an erased guest's booking
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


@dataclass(frozen=True)
class Page:
    entries: list[FeedEntry]
    next_cursor: int  # what to pass as `after` next time
    has_more: bool


class CursorAhead(Exception):
    """The cursor is past the partner's newest entry: it was never handed out (reading on
    from it would silently skip the entries numbered up to it once they exist)."""

    def __init__(self, newest: int) -> None:
        super().__init__(f"the newest cursor is {newest}")
        self.newest = newest


class CursorExpired(Exception):
    """The cursor points before what the feed still keeps."""

    def __init__(self, purged_through: int) -> None:
        super().__init__(f"entries through {purged_through} were purged")
        self.purged_through = purged_through


async def read(
    session: AsyncSession,
    partner_id: str,
    after: int | None,
    limit: int,
    types: Sequence[str] | None = None,
    *,
    bookings: bool = True,
) -> Page:
    """The partner's entries after `after` (None: from the oldest kept), at most `limit`, in
    cursor order; only of `types` if given; with `bookings` False, none about a booking (a
    key without `reservations:read`). Raises CursorExpired for a cursor before what is kept
    (entries after it are gone), CursorAhead for one never handed out."""
    counter = await session.get(FeedPartner, partner_id, populate_existing=True)
    purged_through = counter.purged_through if counter else 0
    last_seq = counter.last_seq if counter else 0
    if after is not None and after < purged_through:
        raise CursorExpired(purged_through)
    if after is not None and after > last_seq:
        raise CursorAhead(last_seq)
    start = purged_through if after is None else after
    query = select(FeedEntry).where(FeedEntry.partner_id == partner_id, FeedEntry.seq > start)
    if types:
        query = query.where(col(FeedEntry.event_type).in_(list(types)))
    if not bookings:
        query = query.where(col(FeedEntry.reservation_id).is_(None))
    rows = list(await session.exec(query.order_by(col(FeedEntry.seq)).limit(limit + 1)))
    if after is not None:
        # The purge may have removed entries after `after` and committed between the check
        # above and the page's SELECT (each statement reads what has committed by then): the
        # page would silently start past them. Check again now: a purge the page's SELECT saw
        # has committed its `purged_through` too.
        again = await session.get(FeedPartner, partner_id, populate_existing=True)
        if again is not None and after < again.purged_through:
            raise CursorExpired(again.purged_through)
    entries, has_more = rows[:limit], len(rows) > limit
    if has_more:
        next_cursor = entries[-1].seq
    else:
        # Every entry numbered up to the counter read first had committed (entries commit in
        # their numbers' order): a filtered read skips past the ones it left out.
        next_cursor = max(start, last_seq, entries[-1].seq if entries else 0)
    return Page(entries, next_cursor, has_more)


async def purge(
    sessions: SessionFactory, retention_days: float, batch: int, now: datetime | None = None
) -> int:
    """Remove entries recorded more than `retention_days` ago, `batch` per transaction and
    partner, advancing each partner's `purged_through`; how many were removed."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    removed = 0
    async with sessions() as session:
        partners = list(
            await session.exec(
                select(FeedEntry.partner_id).where(col(FeedEntry.recorded_at) < cutoff).distinct()
            )
        )
    for partner_id in partners:
        while True:
            async with sessions() as session, session.begin():
                seqs = list(
                    await session.exec(
                        select(FeedEntry.seq)
                        .where(
                            FeedEntry.partner_id == partner_id,
                            col(FeedEntry.recorded_at) < cutoff,
                        )
                        .order_by(col(FeedEntry.seq))
                        .limit(batch)
                    )
                )
                if not seqs:
                    break
                through = seqs[-1]
                counter = await session.get(
                    FeedPartner, partner_id, with_for_update=True, populate_existing=True
                )
                await session.exec(
                    delete(FeedEntry).where(
                        col(FeedEntry.partner_id) == partner_id, col(FeedEntry.seq) <= through
                    )
                )
                if counter is not None and counter.purged_through < through:
                    counter.purged_through = through
                    session.add(counter)
                removed += len(seqs)
            if len(seqs) < batch:
                break
    return removed


async def purge_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: every `feed_purge_interval_seconds`, entries past the retention and
    parked events nobody claimed."""
    settings = runtime.settings
    while True:
        try:
            await purge(runtime.sessions, settings.feed_retention_days, settings.feed_purge_batch)
            async with runtime.sessions() as session, session.begin():
                await bookings.purge_parked(session, settings.feed_parked_hours)
        except Exception:  # a pass that failed is retried at the next tick
            log.exception("feed purge failed")
        await asyncio.sleep(settings.feed_purge_interval_seconds)

"""Transactional outbox: the event row commits with the state change; a relay publishes it.

The relay wakes when a session that added events commits (an in-process signal) and polls as a
safety net. Rows are published in batches with every confirm in flight at once, then marked
sent. A broker that is down delays events; it never loses them.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, case, func, update
from sqlmodel import Field, SQLModel, col, select

from hotel_common.db import SessionFactory, after_commit, transaction
from hotel_common.events.bus import EventBus
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.time import utcnow

log = logging.getLogger(__name__)

WAKE_HOOK = "outbox_wake"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "published_at", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)  # publication order
    id: str = Field(max_length=36, unique=True)  # the envelope id
    type: str = Field(max_length=100)
    envelope: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = 0


def add_event(session: Any, event: IntegrationEvent, source: str) -> Envelope:
    """Stage `event` in the caller's transaction; the relay is woken once it commits."""
    envelope = Envelope.wrap(event, source)
    session.add(
        OutboxMessage(
            id=envelope.id,
            type=envelope.type,
            envelope=envelope.model_dump(mode="json"),
        )
    )
    wake = session.sync_session.info.get(WAKE_HOOK)
    if wake is not None:
        after_commit(session, wake)
    return envelope


class OutboxRelay:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        *,
        poll_seconds: float = 2.0,
        batch_size: int = 200,
        lock_rows: bool = False,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # PostgreSQL: FOR UPDATE SKIP LOCKED lets several replicas relay without claiming one row
        # twice. SQLite: the IMMEDIATE write lock already serialises relays.
        self.lock_rows = lock_rows
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = self.poll_seconds
        while True:
            try:
                while await self.relay_once() == self.batch_size:
                    pass
                backoff = self.poll_seconds
            except Exception as exc:
                log.warning("outbox relay could not publish; will retry", extra={"error": str(exc)})
                backoff = min(backoff * 2, 30.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows in order; return how many were sent."""
        async with transaction(self.sessions) as session:
            query = (
                select(OutboxMessage)
                .where(col(OutboxMessage.published_at).is_(None))
                .order_by(col(OutboxMessage.seq))
                .limit(self.batch_size)
            )
            if self.lock_rows:
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.exec(query)).all())
            if not rows:
                return 0
            try:
                await self.bus.publish([Envelope.model_validate(r.envelope) for r in rows])
            except Exception:
                await session.exec(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.seq).in_([r.seq for r in rows]))
                    .values(attempts=OutboxMessage.attempts + 1)
                )
                await session.commit()
                raise
            now = datetime.now(UTC)
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.seq).in_([r.seq for r in rows]))
                .values(published_at=now)
            )
        self.published += len(rows)
        return len(rows)

    async def counts(self) -> dict[str, int]:
        """Rows waiting to be published, and published rows still kept (see retention.py)."""
        published = case((col(OutboxMessage.published_at).is_(None), "pending"), else_="kept")
        async with self.sessions() as session:
            rows = await session.exec(select(published, func.count()).group_by(published))
            return {"pending": 0, "kept": 0} | {state: n for state, n in rows.all()}

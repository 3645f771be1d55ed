"""Idempotent consumer: a handler's effect and its processed-event row commit together."""

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.db import SessionFactory
from hotel_common.events.bus import Handler
from hotel_common.events.envelope import Envelope
from hotel_common.time import utcnow

log = logging.getLogger(__name__)

SessionHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=36)
    handler: str = Field(primary_key=True, max_length=200)
    event_type: str = Field(max_length=100)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


def idempotent(
    sessions: SessionFactory, handler: SessionHandler, name: str | None = None
) -> Handler:
    """Wrap `handler(session, envelope)` so each event takes effect once, whatever redelivers it."""
    key = name or f"{handler.__module__}.{handler.__qualname__}"

    @functools.wraps(handler)
    async def run(envelope: Envelope) -> None:
        try:
            async with sessions() as session, session.begin():
                if await session.get(ProcessedEvent, (envelope.id, key)) is not None:
                    log.info(
                        "duplicate event ignored", extra={"event_id": envelope.id, "handler": key}
                    )
                    return
                session.add(
                    ProcessedEvent(event_id=envelope.id, handler=key, event_type=envelope.type)
                )
                await session.flush()  # claim the event first: a racing twin fails here
                await handler(session, envelope)
        except IntegrityError:
            # Either a twin delivery claimed the event first (fine) or the handler broke a
            # constraint (a real failure, to be retried and parked).
            async with sessions() as session:
                if await session.get(ProcessedEvent, (envelope.id, key)) is None:
                    raise
            log.info("event handled concurrently elsewhere", extra={"event_id": envelope.id})

    return run

"""Idempotent consumer: a handler's effect and its processed-event row commit together.

A subscription (`Runtime.handle(Contract, handler, name="service.action")`) names its handler:
the name keys the processed-events table, so renaming or moving the function never re-applies
an event already handled. The wrapper decodes the envelope into the contract before it opens a
transaction (a payload that does not validate never holds a connection; it is retried, then
parked) and gives the handler the session and the typed event.

Concurrency: a service handles up to `bus_prefetch` messages at once, and replicas compete for
one queue, so two events of one booking (its confirmation and its cancellation) can be handled
at the same moment. A handler that reads state and then acts on it (no pickup yet? then open
one) would not see what its twin is about to commit. So the handler of an event that belongs to
an aggregate first takes a lock keyed by (aggregate type, id) inside its own transaction, before
it reads anything, and holds it to the commit: handlers of one aggregate run one after the
other, in any service replica; handlers of different aggregates still run side by side.

- PostgreSQL: `pg_advisory_xact_lock(hashtextextended(key, 0))`, released at commit or rollback.
  A hash collision only serializes two unrelated aggregates, never breaks correctness.
- SQLite: every transaction begins IMMEDIATE (db.py), so it holds the file's write lock from its
  first statement on, and every writer of the file, in any process, runs one at a time.

The contract names its aggregate, and envelopes carry it (`aggregate_type`, `aggregate_id`).
The order of events is not guaranteed: under the lock, handlers compare the event's
`aggregate_version` with what they stored, by the one rule of `envelope.newer`.
"""

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import DateTime, TextClause, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from hotel_common.db import SessionFactory
from hotel_common.events.bus import Handler
from hotel_common.events.deadletters import NAME_ATTR
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.time import utcnow

log = logging.getLogger(__name__)

NAME_MAX_LENGTH = 200
# "transfer.open_pickup": lowercase words joined by dots, at least two.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=36)
    handler: str = Field(primary_key=True, max_length=NAME_MAX_LENGTH)
    event_type: str = Field(max_length=100)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


def check_handler_name(name: str) -> str:
    """A subscription's name: dotted lowercase ("transfer.open_pickup"), at most 200 long."""
    if len(name) > NAME_MAX_LENGTH or not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"handler name {name!r}: lowercase words joined by dots, e.g. 'transfer.open_pickup'"
        )
    return name


def aggregate_key(envelope: Envelope, contract: type[IntegrationEvent] | None = None) -> str | None:
    """ "reservation:<id>" for an event of an aggregate, None for one of none.

    The envelope names its aggregate; for an envelope made before envelopes did, the contract's
    declaration finds it in the payload.
    """
    if envelope.aggregate_type is not None and envelope.aggregate_id is not None:
        return f"{envelope.aggregate_type}:{envelope.aggregate_id}"
    if contract is None or contract.aggregate is None:
        return None
    kind, field = contract.aggregate
    value = envelope.payload.get(field)
    return None if value is None else f"{kind}:{value}"


async def lock_aggregate(session: AsyncSession, key: str) -> None:
    """Hold `key` until the session's transaction ends (see the module docstring)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )
    # SQLite: the transaction's first statement (BEGIN IMMEDIATE) already took the write lock.


def _claim_statement(dialect: str, serial: bool, keys: Sequence[str]) -> TextClause:
    """Take the aggregate's lock, check the event was not processed under any of `keys` and
    claim it under the first, in one statement (one round trip instead of three).

    PostgreSQL: the lock is a CTE the INSERT selects from, so it is taken before the row is
    written, and every later statement of the handler (a new snapshot under READ COMMITTED)
    sees what the lock's previous holder committed. The NOT EXISTS reads this statement's
    snapshot, taken before the lock was waited for, so a handler with former keys takes the
    lock in a statement of its own first (a replica still on the old name may be claiming the
    event under it at this moment); a twin claiming the current key concurrently is caught by
    ON CONFLICT, which waits for the twin's transaction and sees its commit. No row returned:
    already processed.
    SQLite: the transaction's BEGIN IMMEDIATE already holds the file's write lock.
    """
    others = ", ".join(f":k{i}" for i in range(len(keys)))
    # In a SELECT list a parameter's type is not taken from the target column: say it.
    pg = dialect == "postgresql"
    row = (
        "CAST(:event_id AS VARCHAR), CAST(:k0 AS VARCHAR), CAST(:event_type AS VARCHAR), "
        "CAST(:now AS TIMESTAMP WITH TIME ZONE)"
        if pg
        else ":event_id, :k0, :event_type, :now"
    )
    source = "FROM aggregate_lock " if serial and pg else ""
    lock = (
        "WITH aggregate_lock AS (SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))) "
        if source
        else ""
    )
    return text(
        f"{lock}INSERT INTO processed_events (event_id, handler, event_type, processed_at) "
        f"SELECT {row} {source}"
        f"WHERE NOT EXISTS (SELECT 1 FROM processed_events "
        f"WHERE event_id = :event_id AND handler IN ({others})) "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    ).bindparams(bindparam("now", type_=DateTime(timezone=True)))


E = TypeVar("E", bound=IntegrationEvent)
EventHandler = Callable[[AsyncSession, E], Awaitable[None]]


def idempotent(
    sessions: SessionFactory,
    contract: type[E],
    handler: EventHandler[E],
    name: str,
    formerly: Sequence[str] = (),
    wanted: Callable[[E], bool] | None = None,
) -> Handler:
    """Wrap `handler(session, event)` so each event takes effect once under the key `name`,
    whatever redelivers it, one at a time per aggregate. `formerly`: keys the handler was
    recorded under before (an event processed under one of them is not applied again).
    `wanted`: an event it says False to is acknowledged at once, nothing recorded, the handler
    not run (no transaction, no lock): a redelivery is asked again, so it must say False only
    where the handler would do nothing, whenever it ran."""
    keys = [name, *formerly]
    key_params = {f"k{i}": key for i, key in enumerate(keys)}
    claims: dict[tuple[str, bool], TextClause] = {}  # by (dialect, has an aggregate)

    async def run(envelope: Envelope) -> None:
        event = contract.from_envelope(envelope)  # invalid: raise before taking a connection
        if wanted is not None and not wanted(event):
            return
        serial = aggregate_key(envelope, contract)
        try:
            async with sessions() as session, session.begin():
                conn = await session.connection()
                dialect = conn.dialect.name
                if (claim := claims.get((dialect, serial is not None))) is None:
                    claim = claims[dialect, serial is not None] = _claim_statement(
                        dialect, serial is not None, keys
                    )
                params = {"event_id": envelope.id, "event_type": envelope.type, "now": utcnow()}
                params |= key_params | ({"key": serial} if serial is not None else {})
                if serial is not None and formerly and dialect == "postgresql":
                    # A former key may be claimed right now by a replica still running the
                    # handler's old version: its row commits while we wait for the lock, after
                    # the claim's snapshot. Lock first, so the claim's snapshot sees it.
                    await lock_aggregate(session, serial)
                # Lock (before the first read), check and claim: a racing twin waits, then
                # finds the event claimed.
                if (await conn.execute(claim, params)).first() is None:
                    log.info(
                        "duplicate event ignored", extra={"event_id": envelope.id, "handler": name}
                    )
                    return
                await handler(session, event)
        except IntegrityError:
            # The handler broke a constraint (a real failure, to be retried and parked), unless
            # the event was claimed meanwhile (a twin on a database whose claim raced).
            async with sessions() as session:
                if await session.get(ProcessedEvent, (envelope.id, name)) is None:
                    raise
            log.info("event handled concurrently elsewhere", extra={"event_id": envelope.id})

    setattr(run, NAME_ATTR, name)  # what a dead letter's "failed handler" header names
    return run

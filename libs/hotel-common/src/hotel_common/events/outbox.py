"""Transactional outbox: the event row commits with the state change; a relay publishes it.

Waking: the relay wakes when a session that added events commits (an in-process signal) and
polls as a safety net. A pass publishes up to `batch_size` rows with every confirm in flight
at once, then marks them sent. A broker that is down delays events; it never loses them.

Order, with several processes of a service on one database: one relay pass at a time. Each
pass is one transaction that first takes a lock every relay of the database shares (on
PostgreSQL the transaction-level advisory lock `RELAY_LOCK_KEY`, waited for, not tried; on
SQLite the `BEGIN IMMEDIATE` write lock), reads the unsent rows it sees in `seq` order,
publishes them in that order and marks them sent before the lock is let go. A relay that is
woken while another publishes waits for the lock, then finds only what is still unsent. Rows
of one aggregate are written under that aggregate's row lock (the reservation row `FOR UPDATE`,
or the consumer's per-aggregate lock), so a later row draws its `seq` after the earlier row's
transaction committed: any pass that sees the later row sees the earlier one, and publishes it
first (or it was published by an earlier pass). A relay that stops, or a process that dies,
ends its transaction and so the lock; the next pass of any other process carries on from the
oldest unsent row. Its rows that were published but not yet marked sent go out again:
at-least-once, which the idempotent consumer absorbs.

A row that can never be published (its envelope no longer validates, the broker refuses it)
must not hold back every later event. Each row is validated and published on its own (all in
flight at once), so a failure names its row. `EventBus.publish` raising `ConnectionError` (or
a `TimeoutError`: a broker that does not answer) means the broker cannot be reached: what went
out is marked sent, no row is charged for anything but an invalid envelope in that pass, and
the relay backs off. Any other failure charges the row one attempt and sets it aside until
`retry_at` (growing delay); the rows after it go ahead. After `max_attempts` the row is
parked (`parked_at`, `last_error`): it waits for an operator (`/admin/outbox`, `retry`). Logs
carry ids and error kinds, never a payload; `last_error` the error's message, which for an
invalid envelope names the fields, not their values.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import JSON, Column, DateTime, Index, bindparam, case, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col, select

from hotel_common import context
from hotel_common.db import SessionFactory, after_commit, transaction
from hotel_common.events.bus import EventBus
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.tasks import cancel_and_wait, raise_if_cancelled
from hotel_common.time import utcnow

log = logging.getLogger(__name__)

WAKE_HOOK = "outbox_wake"
# The session factory's info key naming the service that publishes (the envelope's source).
SOURCE_INFO = "event_source"
# One relay pass at a time per database ("outbox" in ASCII). Advisory locks are per database,
# so the services, each with its own database, never contend for it.
RELAY_LOCK_KEY = 0x6F7574626F78
# What `EventBus.publish` raises when the broker cannot be reached (never charged to a row).
BROKER_UNREACHABLE = (ConnectionError, TimeoutError)
LAST_ERROR_LENGTH = 500
MAX_RETRY_DELAY = 60.0


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unsent", "published_at", "seq"),
        Index("ix_outbox_parked", "parked_at"),  # readiness counts them on every probe
    )

    seq: int | None = Field(default=None, primary_key=True)  # publication order
    id: str = Field(max_length=36, unique=True)  # the envelope id
    type: str = Field(max_length=100)
    envelope: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = 0  # failed attempts charged to this row (never a broker outage)
    # Not tried again before this (set after a failed attempt).
    retry_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Set once the attempts ran out: the relay leaves the row to an operator.
    parked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_error: str | None = Field(default=None, max_length=LAST_ERROR_LENGTH)


def add_event(session: Any, event: IntegrationEvent) -> Envelope:
    """Stage `event` in the caller's transaction; the relay is woken once it commits.

    The envelope's `source` is the service whose session this is (the runtime's session
    factory names it), else the service doing the work in hand (`context.service`).
    """
    source = session.sync_session.info.get(SOURCE_INFO) or context.service.get()
    if not source:
        raise RuntimeError("add_event needs a service's session (or context.service set)")
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


_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
_TIMESTAMP = DateTime(timezone=True)
# A pass's statements, built once (their compiled forms are cached by these objects).
_DUE = (
    sa_select(_outbox.c.seq, _outbox.c.id, _outbox.c.type, _outbox.c.envelope, _outbox.c.attempts)
    .where(
        _outbox.c.published_at.is_(None),
        _outbox.c.parked_at.is_(None),
        or_(_outbox.c.retry_at.is_(None), _outbox.c.retry_at <= bindparam("now", type_=_TIMESTAMP)),
    )
    .order_by(_outbox.c.seq)
    .limit(bindparam("limit"))
)
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(published_at=bindparam("now", type_=_TIMESTAMP))
)


class InvalidEnvelope(Exception):
    """A stored envelope that no longer validates: which fields and why, never their values."""

    def __init__(self, error: ValidationError) -> None:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'envelope'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False)
        )
        super().__init__(f"envelope does not validate: {where}")


def describe(error: BaseException) -> str:
    """The `last_error` of a row: the error's kind and message, cut short."""
    return f"{type(error).__name__}: {error}"[:LAST_ERROR_LENGTH]


class OutboxRelay:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        *,
        poll_seconds: float = 2.0,
        batch_size: int = 200,
        max_attempts: int = 5,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        bind = sessions.kw.get("bind")
        self._postgres = bind is not None and bind.dialect.name == "postgresql"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait([self._task])

    async def _run(self) -> None:
        backoff = self.poll_seconds
        while True:
            raise_if_cancelled()  # a cancellation a library swallowed (hotel_common.tasks)
            try:
                while await self.relay_once() == self.batch_size:
                    pass
                backoff = self.poll_seconds
            except Exception as exc:
                # A broker's message names no payload; other errors (a database's) may hold
                # data, so only their kind is logged.
                error = describe(exc) if isinstance(exc, ConnectionError) else type(exc).__name__
                log.warning("outbox relay could not publish; will retry", extra={"error": error})
                backoff = min(backoff * 2, 30.0)
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that lands as the wake-up completes, and stop() would then wait forever.
            raise_if_cancelled()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            self._wake.clear()

    def _retry_delay(self, attempts: int) -> float:
        return float(min(self.poll_seconds * 2 ** (attempts - 1), MAX_RETRY_DELAY))

    async def relay_once(self) -> int:
        """One pass: publish the due rows in `seq` order; return how many rows it dealt with
        (sent, set aside or parked). Raises `ConnectionError` if the broker could not be
        reached, once what did go out is marked sent."""
        async with transaction(self.sessions) as session:
            if self._postgres:  # wait for any other relay's pass to end (module docstring)
                conn = await session.connection()
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
                )
            now = utcnow()
            # Core rows, not ORM objects: this runs for every event a service publishes.
            conn = await session.connection()
            rows = list((await conn.execute(_DUE, {"now": now, "limit": self.batch_size})).all())
            if not rows:
                return 0
            failures = await self._publish(rows)
            sent = [r.seq for r in rows if r.seq not in failures]
            if sent:
                await conn.execute(_MARK_SENT, {"now": now, "seqs": sent})
            unreachable = next(
                (e for e in failures.values() if isinstance(e, BROKER_UNREACHABLE)), None
            )
            for row in rows:
                error = failures.get(row.seq)
                # In a pass that lost the broker, another failure may be the outage's too: only
                # an envelope that does not validate is charged then.
                if error is not None and (
                    unreachable is None or isinstance(error, InvalidEnvelope)
                ):
                    await conn.execute(
                        update(OutboxMessage)
                        .where(col(OutboxMessage.seq) == row.seq)
                        .values(**self._charge(row, error, now))
                    )
        self.published += len(sent)
        if unreachable is not None:
            raise ConnectionError(f"broker unreachable: {describe(unreachable)}")
        return len(rows)

    async def _publish(self, rows: Sequence[Any]) -> dict[int | None, Exception]:
        """Validate, then publish each row on its own, all in flight at once (in `seq` order:
        the bus sends in call order); return the failures by `seq`."""
        failures: dict[int | None, Exception] = {}
        ready: list[tuple[int | None, Envelope]] = []
        for row in rows:
            try:
                ready.append((row.seq, Envelope.model_validate(row.envelope)))
            except ValidationError as exc:
                failures[row.seq] = InvalidEnvelope(exc)
        outcomes = await asyncio.gather(
            *(self.bus.publish([envelope]) for _, envelope in ready), return_exceptions=True
        )
        for (seq, _), outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failures[seq] = outcome
            elif isinstance(outcome, BaseException):  # cancelled, interrupted: not a verdict
                raise outcome
        return failures

    def _charge(self, row: Any, error: Exception, now: datetime) -> dict[str, Any]:
        """One failed attempt for `row`: set it aside for a while, or park it (the values)."""
        attempts = row.attempts + 1
        ids = {"event_id": row.id, "seq": row.seq, "event_type": row.type}
        facts = ids | {"attempts": attempts, "error": type(error).__name__}
        values: dict[str, Any] = {"attempts": attempts, "last_error": describe(error)}
        if attempts >= self.max_attempts:
            values |= {"parked_at": now, "retry_at": None}
            log.error("outbox row parked: it could not be published", extra=facts)
        else:
            values["retry_at"] = now + timedelta(seconds=self._retry_delay(attempts))
            log.warning("outbox row could not be published; set aside", extra=facts)
        return values

    async def counts(self) -> dict[str, int]:
        """Rows waiting to be published, rows parked, and published rows still kept
        (see retention.py)."""
        state = case(
            (col(OutboxMessage.published_at).is_not(None), "kept"),
            (col(OutboxMessage.parked_at).is_not(None), "parked"),
            else_="pending",
        )
        async with self.sessions() as session:
            rows = await session.exec(select(state, func.count()).group_by(state))
            return {"pending": 0, "parked": 0, "kept": 0} | {s: n for s, n in rows.all()}

    async def parked_count(self) -> int:
        query = select(func.count()).where(col(OutboxMessage.parked_at).is_not(None))
        async with self.sessions() as session:
            return (await session.exec(query)).one()

    async def parked(self, after: int | None, limit: int) -> list[OutboxMessage]:
        """Parked rows in `seq` order, after the row `after` (keyset paging)."""
        query = select(OutboxMessage).where(col(OutboxMessage.parked_at).is_not(None))
        if after is not None:
            query = query.where(col(OutboxMessage.seq) > after)
        async with self.sessions() as session:
            return list(
                (await session.exec(query.order_by(col(OutboxMessage.seq)).limit(limit))).all()
            )

    async def retry(self, event_id: str | None = None) -> int:
        """Un-park one row (by its event id) or, without an id, every parked row; return how
        many. Its attempts start again from zero."""
        query = (
            update(OutboxMessage)
            .where(col(OutboxMessage.parked_at).is_not(None))
            .values(parked_at=None, retry_at=None, attempts=0)
        )
        if event_id is not None:
            query = query.where(col(OutboxMessage.id) == event_id)
        async with transaction(self.sessions) as session:
            retried: int = (await session.exec(query)).rowcount
        if retried:
            log.info("outbox rows un-parked", extra={"event_id": event_id, "rows": retried})
            self.wake()
        return retried

    async def row(self, event_id: str) -> OutboxMessage | None:
        async with self.sessions() as session:
            query = select(OutboxMessage).where(col(OutboxMessage.id) == event_id)
            return (await session.exec(query)).first()

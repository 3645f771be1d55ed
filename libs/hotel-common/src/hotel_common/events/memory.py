"""In-memory bus for embedded mode and tests: asynchronous, at-least-once, retries, dead letters.

One `InMemoryBroker` per process plays RabbitMQ's part: a topic exchange with one queue per
consuming service. Each service gets its own `InMemoryBus` on that broker; replicas of a service
share its queue, its retry bookkeeping and its dead letters, like RabbitMQ's competing consumers.
Everything runs on one event loop and the dead-letter operations do not await while they read or
move parked messages, so a listing or a replay sees the parked list whole and replays each
message once, whichever replica serves it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotel_common.events.bus import BrokerUnavailable, Handler
from hotel_common.events.deadletters import (
    DEAD_LETTERED_HEADER,
    DeadLetter,
    PageCollector,
    ReplayResult,
    failure_headers,
    from_parts,
    naming_failures,
    now_iso,
    wanted_ids,
)
from hotel_common.events.dispatch import Subscriptions
from hotel_common.events.envelope import Envelope
from hotel_common.pagination import Page

log = logging.getLogger(__name__)


@dataclass
class _Parked:
    envelope: Envelope
    headers: dict[str, Any]

    def show(self) -> DeadLetter:
        return from_parts(self.envelope.id, self.envelope.to_bytes(), self.headers)


@dataclass
class _Queue:
    name: str
    keys: set[str]
    messages: asyncio.Queue[tuple[Envelope, int]] = field(default_factory=asyncio.Queue)
    dead: list[_Parked] = field(default_factory=list)
    # When a message still being retried was first received (by envelope id).
    first_received: dict[str, str] = field(default_factory=dict)


class InMemoryBroker:
    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.up = True  # tests flip this to simulate an unreachable broker

    def declare(self, name: str, keys: set[str]) -> _Queue:
        queue = self.queues.setdefault(name, _Queue(name, set()))
        queue.keys |= keys
        return queue

    def route(self, envelope: Envelope) -> None:
        if not self.up:
            raise BrokerUnavailable("in-memory broker is down")
        for queue in self.queues.values():
            if envelope.type in queue.keys:
                queue.messages.put_nowait((envelope, 0))


class InMemoryBus:
    def __init__(
        self, broker: InMemoryBroker, service: str, retry_delays: Sequence[float] = (0.05, 0.2, 1.0)
    ) -> None:
        self.broker = broker
        self.service = service
        self.retry_delays = list(retry_delays)
        self.subscriptions = Subscriptions()
        self._queue: _Queue | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.subscriptions.add(event_type, naming_failures(handler))

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        # The same contract as RabbitBus: ConnectionError when the broker is down.
        for envelope in envelopes:
            self.broker.route(envelope)

    async def start(self) -> None:
        if not self.subscriptions.event_types:
            return
        self._queue = self.broker.declare(self.service, set(self.subscriptions.event_types))
        self._spawn(self._consume(self._queue))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, queue: _Queue) -> None:
        while True:
            envelope, attempt = await queue.messages.get()
            first = queue.first_received.setdefault(envelope.id, now_iso())
            try:
                await self.subscriptions.dispatch(envelope)
            except Exception as exc:
                headers = failure_headers(self.service, exc, attempt + 1, first)
                log.warning(
                    "handler failed",
                    extra={"event_id": envelope.id, "attempt": attempt + 1}
                    | {"error_type": headers.get("x-error-type")},
                )
                if attempt < len(self.retry_delays):
                    self._spawn(self._redeliver(queue, envelope, attempt + 1))
                else:
                    log.error("handler failed for good, parked", extra={"event_id": envelope.id})
                    queue.first_received.pop(envelope.id, None)
                    headers[DEAD_LETTERED_HEADER] = now_iso()
                    queue.dead.append(_Parked(envelope, headers))
            else:
                queue.first_received.pop(envelope.id, None)

    async def _redeliver(self, queue: _Queue, envelope: Envelope, attempt: int) -> None:
        await asyncio.sleep(self.retry_delays[attempt - 1])
        queue.messages.put_nowait((envelope, attempt))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def ready(self) -> bool:
        return self.broker.up and (
            not self.subscriptions.event_types or any(not t.done() for t in self._tasks)
        )

    def _parked(self) -> list[_Parked]:
        if not self.broker.up:
            raise BrokerUnavailable("in-memory broker is down")
        return self._queue.dead if self._queue else []

    async def dead_letters(self, limit: int = 50, cursor: str | None = None) -> Page[DeadLetter]:
        page = PageCollector(limit, cursor)
        for parked in self._parked():
            if page.full:
                break
            page.add(parked.show())
        return page.page()

    async def replay_dead_letters(self, ids: Sequence[str] | None = None) -> ReplayResult:
        parked = self._parked()
        wanted = wanted_ids(ids)
        replayed: dict[str, Envelope] = {}
        kept: list[_Parked] = []
        for item in parked:
            eid = item.envelope.id
            if eid in replayed or (wanted is not None and eid not in wanted):
                kept.append(item)  # another copy of a replayed id stays parked, as on RabbitMQ
            else:
                replayed[eid] = item.envelope
        if self._queue is not None:
            self._queue.dead[:] = kept
            for envelope in replayed.values():
                self._queue.messages.put_nowait((envelope, 0))  # attempts start again
        missing = [] if wanted is None else [i for i in wanted if i not in replayed]
        return ReplayResult(replayed=list(replayed), not_found=missing)

"""In-memory bus for embedded mode and tests: asynchronous, at-least-once, retries, dead letters.

One `InMemoryBroker` per process plays RabbitMQ's part: a topic exchange with one queue per
consuming service. Each service gets its own `InMemoryBus` on that broker.
"""

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotel_common.events.bus import Handler
from hotel_common.events.dispatch import Subscriptions
from hotel_common.events.envelope import Envelope

log = logging.getLogger(__name__)


@dataclass
class _Queue:
    name: str
    keys: set[str]
    messages: asyncio.Queue[tuple[Envelope, int]] = field(default_factory=asyncio.Queue)
    dead: list[Envelope] = field(default_factory=list)


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
            raise ConnectionError("in-memory broker is down")
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
        self.subscriptions.add(event_type, handler)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
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
            try:
                await self.subscriptions.dispatch(envelope)
            except Exception:
                if attempt < len(self.retry_delays):
                    log.warning(
                        "handler failed, will retry",
                        exc_info=True,
                        extra={"event_id": envelope.id, "event_type": envelope.type},
                    )
                    self._spawn(self._redeliver(queue, envelope, attempt + 1))
                else:
                    log.error("handler failed for good, parked", extra={"event_id": envelope.id})
                    queue.dead.append(envelope)

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

    async def dead_letters(self) -> list[Envelope]:
        return list(self._queue.dead) if self._queue else []

    async def replay_dead_letters(self) -> int:
        if not self._queue:
            return 0
        parked, self._queue.dead = self._queue.dead, []
        for envelope in parked:
            self._queue.messages.put_nowait((envelope, 0))
        return len(parked)

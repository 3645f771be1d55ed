"""RabbitMQ bus (aio-pika): durable topic exchange, one durable queue per consuming service,
persistent messages with publisher confirms, ack after the handler's commit, retry queues with
growing delay, then a dead-letter queue. Names follow STYLE.md: `<service>`,
`<service>.retry.<ms>`, `<service>.dlq`, all under an optional namespace prefix.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from hotel_common.events.bus import Handler
from hotel_common.events.dispatch import Subscriptions
from hotel_common.events.envelope import Envelope

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-attempt"
UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000


class RabbitBus:
    def __init__(
        self,
        url: str,
        service: str,
        *,
        namespace: str = "",
        retry_delays: Sequence[float] = (1.0, 5.0, 30.0),
        prefetch: int = 16,
        publish_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.service = service
        self.retry_delays = list(retry_delays)
        self.prefetch = prefetch
        self.publish_timeout = publish_timeout
        self.subscriptions = Subscriptions()
        if namespace and not namespace.endswith((".", "-", "_")):
            namespace += (
                "."  # "test-1a2b" -> "test-1a2b.hotel.events", "test-1a2b.transfer-service"
            )
        self.exchange_name = f"{namespace}hotel.events"
        self.unrouted_name = f"{namespace}hotel.unrouted"
        self.queue_name = f"{namespace}{service}"
        self.dlq_name = f"{self.queue_name}.dlq"
        self._conn: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._queue: AbstractQueue | None = None
        self._connecting: asyncio.Task[None] | None = None

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.subscriptions.add(event_type, handler)

    def retry_queue_name(self, attempt: int) -> str:
        return f"{self.queue_name}.retry.{int(self.retry_delays[attempt - 1] * 1000)}"

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect in the background: a service starts with the broker down."""
        self._connecting = asyncio.create_task(self._connect_forever())

    async def _connect_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._connect()
                return
            except Exception as exc:  # broker down or refusing: try again, never give up
                log.warning("broker unreachable, retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _connect(self) -> None:
        conn = await aio_pika.connect_robust(self.url, reconnect_interval=1.0)
        try:
            channel = await conn.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=self.prefetch)
            # Events no queue is bound for yet (a consumer not yet deployed, say) go to the
            # alternate exchange's queue instead of vanishing; they can be replayed from there.
            unrouted = await channel.declare_exchange(
                self.unrouted_name, aio_pika.ExchangeType.FANOUT, durable=True
            )
            kept = await channel.declare_queue(
                self.unrouted_name,
                durable=True,
                # Events nobody consumes (yet) are kept a week, long enough to deploy the
                # consumer and replay them, not forever.
                arguments={"x-message-ttl": UNROUTED_TTL_MS},
            )
            await kept.bind(unrouted)
            exchange = await channel.declare_exchange(
                self.exchange_name,
                aio_pika.ExchangeType.TOPIC,
                durable=True,
                arguments={"alternate-exchange": self.unrouted_name},
            )
            if self.subscriptions.event_types:
                queue = await channel.declare_queue(self.queue_name, durable=True)
                for key in self.subscriptions.event_types:
                    await queue.bind(exchange, routing_key=key)
                for attempt in range(1, len(self.retry_delays) + 1):
                    await channel.declare_queue(
                        self.retry_queue_name(attempt),
                        durable=True,
                        arguments={
                            "x-message-ttl": int(self.retry_delays[attempt - 1] * 1000),
                            "x-dead-letter-exchange": "",
                            "x-dead-letter-routing-key": self.queue_name,
                        },
                    )
                await channel.declare_queue(self.dlq_name, durable=True)
                await queue.consume(self._on_message, no_ack=False)
                self._queue = queue
        except BaseException:
            await conn.close()
            raise
        self._conn, self._channel, self._exchange = conn, channel, exchange
        log.info("connected to broker", extra={"queue": self.queue_name})

    async def close(self) -> None:
        if self._connecting:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._conn:
            await self._conn.close()
        self._conn = self._channel = self._exchange = self._queue = None

    # -- publishing ------------------------------------------------------------------------
    def _connected(self) -> bool:
        # A robust connection waits for reconnection inside most calls; we check first so
        # that callers (the outbox relay, readiness) fail fast instead of hanging.
        return self._conn is not None and self._conn.connected.is_set()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if self._exchange is None or not self._connected():
            raise ConnectionError("not connected to the broker")
        exchange = self._exchange
        # All in flight at once; each await returns on the broker's confirm.
        await asyncio.wait_for(
            asyncio.gather(
                *(exchange.publish(self._message(e), routing_key=e.type) for e in envelopes)
            ),
            timeout=self.publish_timeout,
        )

    @staticmethod
    def _message(envelope: Envelope, attempt: int = 0) -> aio_pika.Message:
        return aio_pika.Message(
            envelope.to_bytes(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,  # not the default: say it
            message_id=envelope.id,
            type=envelope.type,
            correlation_id=envelope.correlation_id,
            headers={ATTEMPT_HEADER: attempt},
        )

    async def _send_to_queue(self, queue: str, envelope: Envelope, attempt: int) -> None:
        assert self._channel is not None
        await self._channel.default_exchange.publish(
            self._message(envelope, attempt), routing_key=queue
        )

    # -- consuming -------------------------------------------------------------------------
    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope.from_bytes(message.body)
        except Exception:
            log.error("unreadable message parked", extra={"message_id": message.message_id})
            assert self._channel is not None
            await self._channel.default_exchange.publish(
                aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=self.dlq_name,
            )
            await message.ack()
            return
        attempt = int(_header(message, ATTEMPT_HEADER, 0))
        try:
            await self.subscriptions.dispatch(envelope)
        except Exception:
            nxt = attempt + 1
            target = self.retry_queue_name(nxt) if nxt <= len(self.retry_delays) else self.dlq_name
            log.warning(
                "handler failed",
                exc_info=True,
                extra={"event_id": envelope.id, "attempt": nxt, "moved_to": target},
            )
            try:
                await self._send_to_queue(target, envelope, nxt)
            except Exception:
                # Could not park it: leave it unacked so the broker redelivers it later.
                log.exception("could not move failed message; requeueing")
                await message.nack(requeue=True)
                return
        await message.ack()

    # -- operations ------------------------------------------------------------------------
    async def ready(self) -> bool:
        if self._channel is None or not self._connected():
            return False
        if not self.subscriptions.event_types:
            return True
        try:
            async with asyncio.timeout(2):
                channel = await self._channel.get_underlay_channel()
                ok = await channel.queue_declare(self.queue_name, passive=True)
        except Exception:
            return False
        return bool(ok.consumer_count)

    async def _drain_dlq(self) -> list[AbstractIncomingMessage]:
        assert self._channel is not None
        dlq = await self._channel.get_queue(self.dlq_name)
        taken = []
        while (msg := await dlq.get(no_ack=False, fail=False)) is not None:
            taken.append(msg)
        return taken

    async def dead_letters(self) -> list[Envelope]:
        if self._channel is None or not self._connected():
            raise ConnectionError("not connected to the broker")
        taken = await self._drain_dlq()
        out = []
        for msg in taken:
            with contextlib.suppress(Exception):
                out.append(Envelope.from_bytes(msg.body))
            await msg.nack(requeue=True)
        return out

    async def replay_dead_letters(self) -> int:
        if self._channel is None or not self._connected():
            raise ConnectionError("not connected to the broker")
        taken = await self._drain_dlq()
        for msg in taken:
            await self._channel.default_exchange.publish(
                aio_pika.Message(
                    msg.body,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers={ATTEMPT_HEADER: 0},
                ),
                routing_key=self.queue_name,
            )
            await msg.ack()
        return len(taken)


async def delete_namespace(
    url: str, namespace: str, services: Sequence[str], retry_delays: Sequence[float]
) -> None:
    """Remove a namespace's exchange and every queue of `services` (test and bench clean-up).

    Call it once the buses are closed: a live robust connection would declare its queue again.
    """
    names = []
    for service in services:
        bus = RabbitBus(url, service, namespace=namespace, retry_delays=retry_delays)
        names += [bus.queue_name, bus.dlq_name]
        names += [bus.retry_queue_name(a) for a in range(1, len(retry_delays) + 1)]
    any_bus = RabbitBus(url, "-", namespace=namespace)
    names.append(any_bus.unrouted_name)
    connection = await aio_pika.connect(url)
    try:
        channel = await (await connection.channel()).get_underlay_channel()
        for name in names:
            await channel.queue_delete(name)
        await channel.exchange_delete(any_bus.exchange_name)
        await channel.exchange_delete(any_bus.unrouted_name)
    finally:
        await connection.close()


def _header(message: AbstractIncomingMessage, name: str, default: Any) -> Any:
    return (message.headers or {}).get(name, default)

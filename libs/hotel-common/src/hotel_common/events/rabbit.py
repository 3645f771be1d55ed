"""RabbitMQ bus (aio-pika): durable topic exchange, one durable queue per consuming service,
persistent messages with publisher confirms, ack after the handler's commit, retry queues with
growing delay, then a dead-letter queue. Names follow STYLE.md: `<service>`,
`<service>.retry.<ms>`, `<service>.dlq`, all under an optional namespace prefix.

Nothing is acked before its next home holds it: every publish is mandatory with confirms and a
returned message raises (`on_return_raises=True`), so a move into a missing retry queue, DLQ or
replay target fails instead of vanishing. The consumer then keeps the original unacked, declares
the queues again and retries the move with growing delay; only after that does it give the
message back to the queue (nack, requeue). A connection lost meanwhile returns every unacked
message to its queue on the broker's side.

Dead-letter listing and replay use a connection of their own, opened for the call: the messages
they read are held unacked, invisible to anyone else, and put back in their original positions
when the call lets go (or its connection dies). Two replicas serving these calls at once
therefore each see only what the other is not holding at that moment: a listing may miss items
and a replay may answer `not_found` for an id the other holds; no message is replayed twice by
one call, and none is lost (see docs/DECISIONS.md).
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from hotel_common.events.bus import BrokerUnavailable, Handler, PublishRefused
from hotel_common.events.deadletters import (
    ATTEMPT_HEADER,
    DEAD_LETTERED_HEADER,
    ERROR_TYPE_HEADER,
    FIRST_RECEIVED_HEADER,
    SERVICE_HEADER,
    UNREADABLE,
    DeadLetter,
    PageCollector,
    ReplayResult,
    describe_error,
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

UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000
# Moving a failed message (to a retry queue or the DLQ): tries, and the first delay (doubling).
MOVE_TRIES = 6
MOVE_FIRST_DELAY = 0.5


def unavailable_or_refused(exc: BaseException) -> Exception:
    """The bus contract's exception for what a publish raised (see `EventBus.publish`)."""
    if isinstance(exc, aiormq.exceptions.DeliveryError):  # nacked, or returned (PublishError)
        return PublishRefused(f"the broker refused the message: {exc}")
    if isinstance(exc, aiormq.exceptions.ChannelPreconditionFailed):  # e.g. over max size
        return PublishRefused(f"the broker refused the message: {exc!r}")
    if isinstance(exc, TimeoutError):
        return BrokerUnavailable("no confirm from the broker in time")
    # Connection and channel loss, a channel closed while reconnecting, socket errors.
    return BrokerUnavailable(f"broker connection lost: {exc!r}")


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
        self.move_tries = MOVE_TRIES
        self.move_first_delay = MOVE_FIRST_DELAY
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
        self._channel: AbstractChannel | None = None  # consumes and moves failed messages
        self._exchange: AbstractExchange | None = None  # on its own publishing channel
        self._queue: AbstractQueue | None = None
        self._connecting: asyncio.Task[None] | None = None
        # aio-pika matches a returned message to its publish by message id: two moves of one
        # event in flight on one channel could be confused, so they take turns.
        self._moving: dict[str, asyncio.Event] = {}

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.subscriptions.add(event_type, naming_failures(handler))

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
            # Returned messages raise (PublishError) instead of counting as published.
            publishing = await conn.channel(publisher_confirms=True, on_return_raises=True)
            channel = await conn.channel(publisher_confirms=True, on_return_raises=True)
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
            exchange_args: dict[str, Any] = {"alternate-exchange": self.unrouted_name}
            exchange = await channel.declare_exchange(
                self.exchange_name,
                aio_pika.ExchangeType.TOPIC,
                durable=True,
                arguments=exchange_args,
            )
            publish_to = await publishing.declare_exchange(
                self.exchange_name,
                aio_pika.ExchangeType.TOPIC,
                durable=True,
                arguments=exchange_args,
            )
            if self.subscriptions.event_types:
                queue = await channel.declare_queue(self.queue_name, durable=True)
                for key in self.subscriptions.event_types:
                    await queue.bind(exchange, routing_key=key)
                for attempt in range(1, len(self.retry_delays) + 1):
                    await channel.declare_queue(
                        self.retry_queue_name(attempt),
                        durable=True,
                        arguments=self._retry_args(attempt),
                    )
                await channel.declare_queue(self.dlq_name, durable=True)
                await queue.consume(self._on_message, no_ack=False)
                self._queue = queue
        except BaseException:
            await conn.close()
            raise
        self._conn, self._channel, self._exchange = conn, channel, publish_to
        log.info("connected to broker", extra={"queue": self.queue_name})

    def _retry_args(self, attempt: int) -> dict[str, Any]:
        return {
            "x-message-ttl": int(self.retry_delays[attempt - 1] * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.queue_name,
        }

    async def _declare_queues_again(self) -> None:
        """Declare this service's queues again (someone deleted one: a move was returned).

        On the raw channel, so the robust channel's restore list does not grow.
        """
        assert self._channel is not None
        raw = await self._channel.get_underlay_channel()
        await raw.queue_declare(self.queue_name, durable=True)
        for key in self.subscriptions.event_types:
            await raw.queue_bind(self.queue_name, self.exchange_name, routing_key=key)
        for attempt in range(1, len(self.retry_delays) + 1):
            await raw.queue_declare(
                self.retry_queue_name(attempt), durable=True, arguments=self._retry_args(attempt)
            )
        await raw.queue_declare(self.dlq_name, durable=True)

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
            raise BrokerUnavailable("not connected to the broker")
        exchange = self._exchange

        async def one(envelope: Envelope) -> None:
            try:
                await exchange.publish(self._message(envelope), routing_key=envelope.type)
            except Exception as exc:
                raise unavailable_or_refused(exc) from exc

        # All in flight at once; each await returns on the broker's confirm.
        try:
            async with asyncio.timeout(self.publish_timeout):
                outcomes = await asyncio.gather(
                    *(one(e) for e in envelopes), return_exceptions=True
                )
        except TimeoutError as exc:
            raise BrokerUnavailable("no confirm from the broker in time") from exc
        failures = [(e, o) for e, o in zip(envelopes, outcomes, strict=True) if o is not None]
        for _, outcome in failures:
            if not isinstance(outcome, PublishRefused):  # an outage wins: outcome unknown
                raise outcome
        if failures:
            raise PublishRefused(str(failures[0][1]), [e.id for e, _ in failures])

    @staticmethod
    def _message(envelope: Envelope, headers: dict[str, Any] | None = None) -> aio_pika.Message:
        return aio_pika.Message(
            envelope.to_bytes(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,  # not the default: say it
            message_id=envelope.id,
            type=envelope.type,
            correlation_id=envelope.correlation_id,
            headers=headers or {ATTEMPT_HEADER: 0},
        )

    # -- consuming -------------------------------------------------------------------------
    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        first = str(headers.get(FIRST_RECEIVED_HEADER) or now_iso())
        attempt = _count(headers.get(ATTEMPT_HEADER))
        try:
            envelope = Envelope.from_bytes(message.body)
        except Exception as exc:
            log.error("unreadable message parked", extra={"message_id": message.message_id})
            kind, _ = describe_error(exc)
            parked = failure_headers(self.service, exc, attempt + 1, first)
            parked |= {ERROR_TYPE_HEADER: f"{UNREADABLE}: {kind}", DEAD_LETTERED_HEADER: now_iso()}
            await self._move(
                message,
                self.dlq_name,
                aio_pika.Message(
                    message.body,
                    content_type=message.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    # Replay and listing name a parked message by its id: give it one.
                    message_id=message.message_id or f"unreadable-{uuid.uuid4()}",
                    type=message.type,
                    correlation_id=message.correlation_id,
                    headers=parked,
                ),
            )
            return
        try:
            await self.subscriptions.dispatch(envelope)
        except Exception as exc:
            nxt = attempt + 1
            target = self.retry_queue_name(nxt) if nxt <= len(self.retry_delays) else self.dlq_name
            moved = failure_headers(self.service, exc, nxt, first)
            if target == self.dlq_name:
                moved[DEAD_LETTERED_HEADER] = now_iso()
            # No traceback: a validation error's text holds the guest's data.
            log.warning(
                "handler failed",
                extra={"event_id": envelope.id, "attempt": nxt, "moved_to": target}
                | {"error_type": moved.get(ERROR_TYPE_HEADER)},
            )
            await self._move(message, target, self._message(envelope, moved))
            return
        await message.ack()

    async def _move(
        self, message: AbstractIncomingMessage, target: str, moved: aio_pika.Message
    ) -> None:
        """Publish `moved` to queue `target`, then ack `message`; never ack before that.

        A returned move (queue missing) declares the queues again and tries again with growing
        delay, holding the original. A lost connection ends the attempt: the broker puts the
        unacked original back. Only when every try failed is the original requeued (nack), so
        a broker refusing for good slows this message down and never loops hot.
        """
        assert self._channel is not None
        channel = self._channel
        delay = self.move_first_delay
        key = moved.message_id or ""
        for tries in range(1, self.move_tries + 1):
            while (busy := self._moving.get(key)) is not None:  # rare: a twin is moving
                await busy.wait()
            done = self._moving[key] = asyncio.Event()
            try:
                await channel.default_exchange.publish(
                    moved, routing_key=target, timeout=self.publish_timeout
                )
            except aiormq.exceptions.PublishError:
                log.warning(
                    "move returned: queue missing, declaring it again", extra={"to": target}
                )
                with contextlib.suppress(Exception):
                    await self._declare_queues_again()
            except Exception as exc:
                if not self._connected() or channel.is_closed:
                    log.warning("connection lost while moving a failed message; broker requeues it")
                    return
                # Still connected (a confirm timed out, a nack): try again after a delay.
                log.warning(
                    "could not move failed message",
                    extra={"to": target, "try": tries, "error_type": type(exc).__name__},
                )
            else:
                with contextlib.suppress(Exception):  # lost now: redelivered, a harmless twin
                    await message.ack()
                return
            finally:
                del self._moving[key]
                done.set()
            await asyncio.sleep(delay)
            delay *= 2
        log.error("could not move failed message; back to its queue", extra={"to": target})
        with contextlib.suppress(Exception):
            await message.nack(requeue=True)

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

    @contextlib.asynccontextmanager
    async def _dlq(self) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue | None]]:
        """A connection of the call's own to the DLQ. Leaving closes it, which puts every
        message still held unacked back in its original position."""
        try:
            conn = await aio_pika.connect(self.url, timeout=10)
        except Exception as exc:
            raise BrokerUnavailable(f"broker unreachable: {exc!r}") from exc
        try:
            channel = await conn.channel(publisher_confirms=True, on_return_raises=True)
            try:  # passive: reading never creates a DLQ
                dlq = await channel.declare_queue(self.dlq_name, passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                dlq = None  # nothing was ever parked here
            yield channel, dlq
        except (PublishRefused, BrokerUnavailable):
            raise
        except Exception as exc:
            raise unavailable_or_refused(exc) from exc
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def dead_letters(self, limit: int = 50, cursor: str | None = None) -> Page[DeadLetter]:
        page = PageCollector(limit, cursor)
        async with self._dlq() as (_, dlq):
            while dlq is not None and not page.full:
                msg = await dlq.get(no_ack=False, fail=False, timeout=10)
                if msg is None:
                    break
                page.add(from_parts(msg.message_id, msg.body, dict(msg.headers or {})))
        return page.page()

    async def replay_dead_letters(self, ids: Sequence[str] | None = None) -> ReplayResult:
        wanted = wanted_ids(ids)
        replayed: dict[str, None] = {}
        async with self._dlq() as (channel, dlq):
            while dlq is not None and (wanted is None or len(replayed) < len(wanted)):
                msg = await dlq.get(no_ack=False, fail=False, timeout=10)
                if msg is None:
                    break
                eid = msg.message_id or ""
                # Held unacked, a message skipped here is not read again by this loop; another
                # copy of an id replayed already stays parked.
                if eid in replayed or (wanted is not None and eid not in wanted):
                    continue
                await channel.default_exchange.publish(
                    self._replayed(msg), routing_key=self.queue_name, timeout=self.publish_timeout
                )
                await msg.ack()  # after the confirm: a crash in between replays it twice, no loss
                replayed[eid] = None
        missing = [] if wanted is None else [i for i in wanted if i not in replayed]
        return ReplayResult(replayed=list(replayed), not_found=missing)

    def _replayed(self, msg: AbstractIncomingMessage) -> aio_pika.Message:
        # Attempts start again; why it was parked is dropped with the parking.
        return aio_pika.Message(
            msg.body,
            content_type=msg.content_type or "application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=msg.message_id,
            type=msg.type,
            correlation_id=msg.correlation_id,
            headers={ATTEMPT_HEADER: 0, SERVICE_HEADER: self.service},
        )


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


def _count(value: Any) -> int:
    try:
        return max(int(str(value or 0)), 0)
    except ValueError:
        return 0

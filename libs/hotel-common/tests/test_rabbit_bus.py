"""The RabbitMQ bus against the machine's real broker (never skipped: CI fails without it)."""

import asyncio
import itertools
import uuid
from typing import ClassVar

import aio_pika
import pytest
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.rabbit import RabbitBus, delete_namespace
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import TcpProxy, eventually, running

RABBIT = "amqp://guest:guest@127.0.0.1:5672/"
pytestmark = pytest.mark.infra


class Pinged(IntegrationEvent):
    event_type: ClassVar[str] = "test.pinged"
    n: int


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:8]}."


async def connected(bus: RabbitBus) -> RabbitBus:
    await bus.start()
    await eventually(bus.ready, timeout=15)
    return bus


async def test_published_events_are_persistent_and_reach_the_subscribed_queue(
    namespace: str,
) -> None:
    got: list[Envelope] = []

    async def handler(e: Envelope) -> None:
        got.append(e)

    consumer = RabbitBus(RABBIT, "consumer", namespace=namespace)
    consumer.subscribe("test.pinged", handler)
    publisher = RabbitBus(RABBIT, "publisher", namespace=namespace)
    await connected(consumer)
    await connected(publisher)
    # A raw probe queue shows what the broker stores.
    conn = await aio_pika.connect(RABBIT)
    channel = await conn.channel()
    probe = await channel.declare_queue(exclusive=True)
    await probe.bind(f"{namespace}hotel.events", "test.#")
    try:
        sent = [Envelope.wrap(Pinged(n=i), "publisher") for i in range(20)]
        await publisher.publish(sent)
        await eventually(lambda: got, lambda g: len(g) == 20)
        assert sorted(e.payload["n"] for e in got) == list(range(20))
        raw = await probe.get(timeout=5)
        assert raw.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert raw.message_id == sent[0].id and raw.type == "test.pinged"
    finally:
        await conn.close()
        await consumer.close()
        await publisher.close()
        await delete_namespace(RABBIT, namespace, ["consumer", "publisher"], consumer.retry_delays)


async def test_failing_handler_is_retried_with_delay_then_dead_lettered_and_replayable(
    namespace: str,
) -> None:
    attempts: list[float] = []
    healed = False

    async def handler(e: Envelope) -> None:
        attempts.append(asyncio.get_running_loop().time())
        if not healed:
            raise RuntimeError("broken")

    bus = RabbitBus(RABBIT, "svc", namespace=namespace, retry_delays=[0.1, 0.3])
    bus.subscribe("test.pinged", handler)
    await connected(bus)
    try:
        sent = Envelope.wrap(Pinged(n=1), "t")
        await bus.publish([sent])
        parked = await eventually(bus.dead_letters, lambda d: len(d.items) == 1, timeout=15)
        assert parked.items[0].id == sent.id
        assert len(attempts) == 3  # first try + one per retry delay
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.29  # the delays grow

        healed = True
        assert (await bus.replay_dead_letters()).replayed == [sent.id]
        await eventually(lambda: attempts, lambda a: len(a) == 4)
        assert (await bus.dead_letters()).items == []
    finally:
        await bus.close()
        await delete_namespace(RABBIT, namespace, ["svc"], bus.retry_delays)


async def test_outbox_holds_events_through_a_broker_outage_and_consumers_come_back(
    toy_spec: ServiceSpec, namespace: str, pg_url: str
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    settings = ServiceSettings(
        service_name="toy-service",
        database_url=pg_url,
        bus="rabbitmq",
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
        bus_namespace=namespace,
        retry_delays=[0.1],
        outbox_poll_seconds=0.2,
        log_json=False,
    )
    app = create_service_app(toy_spec, settings)
    try:
        async with running(app) as client:
            await eventually(lambda: client.get("/health/ready"), lambda r: r.status_code == 200)
            proxy.cut()
            r = await client.post("/api/v1/notes", json={"text": "during outage"})
            assert r.status_code == 201
            not_ready = await eventually(
                lambda: client.get("/health/ready"), lambda r: r.status_code == 503
            )
            assert not_ready.json()["checks"]["bus"] != "ok"
            assert (await client.get("/admin/outbox")).json()["pending"] == 1

            proxy.restore()
            notes = await eventually(
                lambda: client.get("/api/v1/notes"), lambda r: len(r.json()) == 2, timeout=30
            )
            assert notes.json()[1]["text"] == "echo:during outage"
            await eventually(
                lambda: client.get("/health/ready"), lambda r: r.status_code == 200, timeout=30
            )
    finally:
        await delete_namespace(RABBIT, namespace, ["toy-service"], settings.retry_delays)
        await proxy.close()
        await drop_database(pg_url)


async def test_an_event_no_queue_is_bound_for_is_kept_not_dropped(namespace: str) -> None:
    publisher = await connected(RabbitBus(RABBIT, "publisher", namespace=namespace))
    try:
        sent = Envelope.wrap(Pinged(n=5), "publisher")  # nobody subscribes to test.pinged
        await publisher.publish([sent])
        conn = await aio_pika.connect(RABBIT)
        try:
            channel = await conn.channel()
            unrouted = await channel.get_queue(publisher.unrouted_name)
            kept = await eventually(lambda: unrouted.get(fail=False), lambda m: m is not None)
            assert Envelope.from_bytes(kept.body).id == sent.id
        finally:
            await conn.close()
    finally:
        await publisher.close()
        await delete_namespace(RABBIT, namespace, ["publisher"], publisher.retry_delays)


# -- point 6: nothing published into a missing queue vanishes; the publish contract ----------


async def raw_queue(name: str) -> tuple[aio_pika.abc.AbstractConnection, int]:
    """A plain connection and the number of ready messages in queue `name` (0 if missing)."""
    conn = await aio_pika.connect(RABBIT)
    try:
        channel = await conn.channel()
        queue = await channel.declare_queue(name, passive=True)
        count = queue.declaration_result.message_count or 0
    except aio_pika.exceptions.ChannelClosed:
        count = 0
    return conn, count


async def ready_messages(name: str) -> int:
    conn, count = await raw_queue(name)
    await conn.close()
    return count


async def delete_queues(*names: str) -> None:
    conn = await aio_pika.connect(RABBIT)
    try:
        channel = await (await conn.channel()).get_underlay_channel()
        for name in names:
            await channel.queue_delete(name)
    finally:
        await conn.close()


async def test_a_failed_message_is_not_lost_when_its_retry_and_dead_letter_queues_are_gone(
    namespace: str,
) -> None:
    async def broken(e: Envelope) -> None:
        raise RuntimeError("broken")

    bus = RabbitBus(RABBIT, "svc", namespace=namespace, retry_delays=[0.1])
    bus.subscribe("test.pinged", broken)
    await connected(bus)
    try:
        # Someone deleted the retry queue and the DLQ (an operator, a policy, a broker reset).
        await delete_queues(bus.retry_queue_name(1), bus.dlq_name)
        await bus.publish([Envelope.wrap(Pinged(n=1), "t")])
        # The move into the missing retry queue is returned, not counted as done: the message
        # stays on the broker and reaches the dead-letter queue once the queues are back.
        await eventually(lambda: ready_messages(bus.dlq_name), lambda n: n == 1, timeout=20)
    finally:
        await bus.close()
        await delete_namespace(RABBIT, namespace, ["svc"], bus.retry_delays)


async def test_publish_raises_connection_error_when_a_confirm_times_out(namespace: str) -> None:
    publisher = await connected(RabbitBus(RABBIT, "publisher", namespace=namespace))
    publisher.publish_timeout = 1e-6  # no broker confirms that fast: the outcome is unknown
    try:
        with pytest.raises(ConnectionError):
            await publisher.publish([Envelope.wrap(Pinged(n=i), "t") for i in range(50)])
    finally:
        await publisher.close()
        await delete_namespace(RABBIT, namespace, ["publisher"], publisher.retry_delays)


async def test_publish_raises_connection_error_when_the_connection_drops_mid_publish(
    namespace: str,
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/"
    publisher = await connected(RabbitBus(url, "publisher", namespace=namespace))
    try:
        sending = asyncio.create_task(
            publisher.publish([Envelope.wrap(Pinged(n=i), "t") for i in range(2000)])
        )
        await asyncio.sleep(0.01)
        proxy.cut()
        with pytest.raises(ConnectionError):
            await sending
    finally:
        await publisher.close()
        await proxy.close()
        await delete_namespace(RABBIT, namespace, ["publisher"], publisher.retry_delays)


async def test_publish_of_a_message_the_broker_returns_raises_but_not_connection_error(
    namespace: str,
) -> None:
    publisher = await connected(RabbitBus(RABBIT, "publisher", namespace=namespace))
    try:
        # Nothing is bound for test.pinged and the alternate exchange's queue is gone: the broker
        # returns the message. That is a refusal, not an outage.
        await delete_queues(publisher.unrouted_name)
        with pytest.raises(Exception) as raised:
            await publisher.publish([Envelope.wrap(Pinged(n=1), "t")])
        assert not isinstance(raised.value, ConnectionError)
    finally:
        await publisher.close()
        await delete_namespace(RABBIT, namespace, ["publisher"], publisher.retry_delays)


# -- point 7: dead letters say why, page, replay one, a selection or all; nothing lost ------


class Parked:
    """A bus on `url` whose handler fails until healed, with `count` events parked in its DLQ."""

    def __init__(self, url: str, namespace: str) -> None:
        self.bus = RabbitBus(url, "svc", namespace=namespace, retry_delays=[0.05])
        self.bus.subscribe("test.pinged", self.check)
        self.healed = False
        self.handled: list[str] = []
        self.on_handled = lambda: None
        self.ids: list[str] = []

    async def check(self, e: Envelope) -> None:
        if not self.healed:
            raise LookupError(f"no room type {e.payload['n']}")
        self.handled.append(e.id)
        self.on_handled()

    async def park(self, count: int) -> list[str]:
        await connected(self.bus)
        sent = [Envelope.wrap(Pinged(n=n), "t") for n in range(count)]
        await self.bus.publish(sent)
        await eventually(
            lambda: ready_messages(self.bus.dlq_name), lambda n: n == count, timeout=30
        )
        self.ids = [e.id for e in sent]
        return self.ids

    async def listed(self, limit: int = 200) -> list[str]:
        return [d.id for d in (await self.bus.dead_letters(limit=limit)).items]

    async def close(self) -> None:
        await self.bus.close()
        await delete_namespace(RABBIT, self.bus.queue_name.removesuffix("svc"), ["svc"], [0.05])


@pytest.fixture
async def parked(namespace: str):
    p = Parked(RABBIT, namespace)
    yield p
    await p.close()


async def test_a_dead_letter_carries_its_error_attempts_and_handler(parked: Parked) -> None:
    (sent,) = await parked.park(1)
    (dead,) = (await parked.bus.dead_letters()).items
    assert dead.id == sent and dead.type == "test.pinged" and dead.service == "svc"
    assert dead.attempts == 2  # the first delivery and one retry
    assert dead.handler is not None and dead.handler.endswith("Parked.check")
    assert dead.error_type == "LookupError" and dead.error == "no room type 0"
    assert dead.first_received_at is not None and dead.dead_lettered_at is not None
    assert dead.first_received_at <= dead.dead_lettered_at
    assert dead.envelope is not None and dead.envelope.payload == {"n": 0}


async def test_an_unreadable_message_is_parked_with_why(parked: Parked) -> None:
    await parked.park(0)
    conn = await aio_pika.connect(RABBIT)
    try:
        channel = await conn.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(b"{not json", message_id="raw-1"), routing_key=parked.bus.queue_name
        )
    finally:
        await conn.close()
    page = await eventually(parked.bus.dead_letters, lambda p: len(p.items) == 1)
    (dead,) = page.items
    assert dead.id == "raw-1" and dead.envelope is None and dead.service == "svc"
    assert dead.error_type is not None and dead.error_type.startswith("unreadable message")
    assert dead.dead_lettered_at is not None


async def test_dead_letters_page_stably_and_leave_the_queue_intact(parked: Parked) -> None:
    await parked.park(7)
    order = await parked.listed()
    assert sorted(order) == sorted(parked.ids)
    seen: list[str] = []
    cursor = None
    while True:
        page = await parked.bus.dead_letters(limit=3, cursor=cursor)
        assert len(page.items) <= 3
        seen += [d.id for d in page.items]
        if (cursor := page.next_cursor) is None:
            break
    # Read messages go back to their original positions: the same order every time.
    assert seen == order
    assert await parked.listed() == order
    assert await ready_messages(parked.bus.dlq_name) == 7


async def test_replay_one_a_selection_or_all_each_exactly_once(parked: Parked) -> None:
    await parked.park(6)
    ids = await parked.listed()
    parked.healed = True

    one = await parked.bus.replay_dead_letters([ids[0]])
    assert one.replayed == [ids[0]] and one.not_found == []
    some = await parked.bus.replay_dead_letters([ids[3], "no-such-id", ids[2], ids[3]])
    assert some.replayed == [ids[2], ids[3]]  # in queue order
    assert some.not_found == ["no-such-id"]
    assert await parked.listed() == [ids[1], ids[4], ids[5]]  # the rest kept its order
    rest = await parked.bus.replay_dead_letters()
    assert rest.replayed == [ids[1], ids[4], ids[5]] and rest.not_found == []

    await eventually(lambda: parked.handled, lambda h: len(h) == 6)
    assert sorted(parked.handled) == sorted(ids)  # each once
    assert await parked.listed() == []


async def test_nothing_parked_is_lost_when_the_replaying_connection_dies_midway(
    namespace: str,
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    parked = Parked(f"amqp://guest:guest@127.0.0.1:{proxy.port}/", namespace)
    try:
        ids = await parked.park(200)
        parked.healed = True
        parked.on_handled = lambda: proxy.cut() if len(parked.handled) == 5 else None
        with pytest.raises(ConnectionError):
            await parked.bus.replay_dead_letters()
        proxy.restore()
        await eventually(parked.bus.ready, timeout=30)
        # Whatever the cut interrupted is either handled or still parked: replay the rest.
        await parked.bus.replay_dead_letters()
        await eventually(lambda: parked.handled, lambda h: set(h) == set(ids), timeout=30)
        assert await parked.listed() == []
    finally:
        await parked.close()
        await proxy.close()


async def test_the_queue_has_its_consumer_again_within_30s_after_a_broker_cut(
    namespace: str,
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    got: list[str] = []

    async def handler(e: Envelope) -> None:
        got.append(e.id)

    bus = RabbitBus(f"amqp://guest:guest@127.0.0.1:{proxy.port}/", "svc", namespace=namespace)
    bus.subscribe("test.pinged", handler)
    publisher = await connected(RabbitBus(RABBIT, "publisher", namespace=namespace))

    async def consumers() -> int:
        conn = await aio_pika.connect(RABBIT)
        try:
            queue = await (await conn.channel()).declare_queue(bus.queue_name, passive=True)
            return queue.declaration_result.consumer_count or 0
        finally:
            await conn.close()

    try:
        await connected(bus)
        proxy.cut()
        await eventually(consumers, lambda n: n == 0, timeout=15)
        proxy.restore()
        await eventually(consumers, lambda n: n == 1, timeout=30)
        sent = Envelope.wrap(Pinged(n=1), "t")
        await publisher.publish([sent])
        await eventually(lambda: got, lambda g: sent.id in g)
    finally:
        await bus.close()
        await publisher.close()
        await proxy.close()
        await delete_namespace(RABBIT, namespace, ["svc", "publisher"], bus.retry_delays)


async def test_dead_letters_of_a_service_that_never_parked_anything_are_empty(
    namespace: str,
) -> None:
    publisher = await connected(RabbitBus(RABBIT, "publisher", namespace=namespace))
    try:
        assert (await publisher.dead_letters()).items == []
        assert (await publisher.replay_dead_letters(["x"])).not_found == ["x"]
        conn = await aio_pika.connect(RABBIT)
        try:
            with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):  # none was created
                await (await conn.channel()).declare_queue(publisher.dlq_name, passive=True)
        finally:
            await conn.close()
    finally:
        await publisher.close()
        await delete_namespace(RABBIT, namespace, ["publisher"], publisher.retry_delays)

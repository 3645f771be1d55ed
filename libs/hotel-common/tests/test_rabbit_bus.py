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
        await eventually(lambda: asyncio.sleep(0, got), lambda g: len(g) == 20)
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
        parked = await eventually(bus.dead_letters, lambda d: len(d) == 1, timeout=15)
        assert parked[0].id == sent.id
        assert len(attempts) == 3  # first try + one per retry delay
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.29  # the delays grow

        healed = True
        assert await bus.replay_dead_letters() == 1
        await eventually(lambda: asyncio.sleep(0, attempts), lambda a: len(a) == 4)
        assert await bus.dead_letters() == []
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

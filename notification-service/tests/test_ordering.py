"""A booking confirmed, given its pickup and cancelled at the same moment: the guest is never
sent a confirmation or pickup notice queued after the cancellation notice, whatever order the
events arrive in, however often, and however many the service handles at once (prefetch,
replicas)."""

import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import create_engine, drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.rabbit import RabbitBus, delete_namespace
from hotel_common.testing import eventually
from sqlalchemy import text

from .conftest import Samples, Service, StartService

RABBIT = "amqp://guest:guest@127.0.0.1:5672/"
BOOKINGS = 40


def traffic(samples: Samples, order: str) -> tuple[list[Envelope], list[str]]:
    """Each booking's confirmation (version 2), pickup (of version 2) and cancellation
    (version 3) in `order`, and the bookings' ids."""
    envelopes: list[Envelope] = []
    ids = []
    for _ in range(BOOKINGS):
        rid = f"res-{uuid.uuid4().hex[:12]}"
        ids.append(rid)
        confirmed, assigned, cancelled = (
            Envelope.wrap(event, "other-service")
            for event in (
                samples.confirmed(reservation_id=rid, with_transfer=True, aggregate_version=2),
                samples.assigned(reservation_id=rid, aggregate_version=2),
                samples.cancelled(reservation_id=rid, aggregate_version=3),
            )
        )
        if order == "confirm_first":
            envelopes += [confirmed, assigned, cancelled]
        elif order == "cancel_first":
            envelopes += [cancelled, assigned, confirmed]
        else:  # duplicates: every event twice, the cancellation between the twins
            envelopes += [confirmed, assigned, cancelled, confirmed, assigned]
    return envelopes, ids


async def handled(database_url: str) -> int:
    """Events the service has handled so far (the inbox's record; no API shows it)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(text("SELECT count(DISTINCT event_id) FROM processed_events"))
            return int(count or 0)
    finally:
        await engine.dispose()


async def run(
    start_service: StartService,
    samples: Samples,
    url: str,
    order: str,
    replicas: int,
    rabbitmq: bool,
) -> list[list[dict[str, Any]]]:
    """Deliver the traffic at once; return each booking's notices, oldest first."""
    namespace = f"test-{uuid.uuid4().hex[:8]}."
    options: dict[str, Any] = {"database_url": url, "bus_prefetch": 16}
    if rabbitmq:
        options |= {"bus": "rabbitmq", "rabbitmq_url": RABBIT, "bus_namespace": namespace}
    else:
        options["broker"] = InMemoryBroker()  # the replicas compete for one queue
    envelopes, ids = traffic(samples, order)
    try:
        async with AsyncExitStack() as stack:
            services: list[Service] = [
                await stack.enter_async_context(start_service(**options)) for _ in range(replicas)
            ]
            for s in services:  # every replica consumes before anything is published
                await eventually(lambda s=s: _ready(s), timeout=15)
            if rabbitmq:
                publisher = RabbitBus(RABBIT, "test-publisher", namespace=namespace)
                await publisher.start()
                stack.push_async_callback(publisher.close)
                await eventually(publisher.ready, timeout=15)
                await publisher.publish(envelopes)
            else:
                for envelope in envelopes:
                    services[0].deliver(envelope)
            distinct = len({e.id for e in envelopes})
            await eventually(lambda: handled(url), lambda n: n == distinct, timeout=60)
            return [
                sorted(await services[0].notices(reservation_id=rid), key=lambda n: n["created_at"])
                for rid in ids
            ]
    finally:
        if rabbitmq:
            await delete_namespace(RABBIT, namespace, ["notification-service"], [0.01, 0.05])


async def _ready(service: Service) -> bool:
    return (await service.client.get("/health/ready")).status_code == 200


def assert_nothing_after_the_cancellation(per_booking: list[list[dict[str, Any]]]) -> None:
    late = 0
    for notices in per_booking:
        kinds = [n["kind"] for n in notices]
        assert kinds.count("reservation_cancelled") == 1, kinds
        late += kinds[-1] != "reservation_cancelled"
    assert late == 0, f"{late} of {BOOKINGS} bookings got a notice queued after the cancellation"


ORDERS = [
    ("confirm_first", 1),
    ("cancel_first", 1),
    ("duplicates", 2),
    ("cancel_first", 2),
]


@pytest.mark.infra
@pytest.mark.parametrize(("order", "replicas"), ORDERS)
async def test_postgres_rabbitmq_no_notice_is_queued_after_the_cancellation(
    start_service: StartService, samples: Samples, order: str, replicas: int
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_notify_{uuid.uuid4().hex}"
    try:
        notices = await run(start_service, samples, url, order, replicas, rabbitmq=True)
    finally:
        await drop_database(url)
    assert_nothing_after_the_cancellation(notices)


@pytest.mark.parametrize(("order", "replicas"), ORDERS[:3])
async def test_sqlite_no_notice_is_queued_after_the_cancellation(
    start_service: StartService, samples: Samples, tmp_path: Path, order: str, replicas: int
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/notify.db"
    notices = await run(start_service, samples, url, order, replicas, rabbitmq=False)
    assert_nothing_after_the_cancellation(notices)

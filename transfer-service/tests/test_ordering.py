"""A booking confirmed and cancelled at the same moment ends with its pickup cancelled,
whatever order the two events arrive in, however often, and however many of them the service
handles at once (prefetch, replicas). Measured before per-reservation serialization: with
confirmations and cancellations of 40 bookings delivered together on PostgreSQL, about half
kept a live pickup."""

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import create_engine, drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.testing import eventually
from sqlalchemy import text

from .conftest import DAY, Service

BOOKINGS = 40


def traffic(service: Service, order: str) -> list[Envelope]:
    """Confirmation and cancellation envelopes of BOOKINGS bookings, in `order`."""
    envelopes = []
    for i in range(BOOKINGS):
        # One pickup a day: every booking gets a vehicle and a driver if it keeps its pickup.
        booking = service.booking(arrival=DAY + timedelta(days=i, hours=10))
        confirmed = Envelope.wrap(booking, "reservation-service")
        cancelled = Envelope.wrap(service.cancellation(booking), "reservation-service")
        if order == "confirm_first":
            envelopes += [confirmed, cancelled]
        elif order == "cancel_first":
            envelopes += [cancelled, confirmed]
        else:  # duplicates: redelivered twins, and a second cancellation event
            again = Envelope.wrap(service.cancellation(booking), "reservation-service")
            envelopes += [confirmed, cancelled, confirmed, again, cancelled]
    return envelopes


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
    serve_transfers: Any, url: str, order: str, replicas: int, rabbitmq: bool
) -> list[dict[str, Any]]:
    async with serve_transfers(
        url, replicas=replicas, rabbitmq=rabbitmq, bus_prefetch=16
    ) as service:
        await service.add_vehicle()
        await service.add_driver()
        envelopes = traffic(service, order)
        await service.publish(envelopes)
        distinct = len({e.id for e in envelopes})
        await eventually(lambda: handled(url), lambda n: n == distinct, timeout=60)
        return await service.jobs()


def assert_no_pickup_survives(jobs: list[dict[str, Any]]) -> None:
    kept = [j["reservation_id"] for j in jobs if j["status"] != "cancelled"]
    assert kept == [], f"{len(kept)} of {BOOKINGS} cancelled bookings kept a pickup"


ORDERS = [
    ("confirm_first", 1),
    ("cancel_first", 1),
    ("duplicates", 2),
    ("confirm_first", 2),
]


@pytest.mark.infra
@pytest.mark.parametrize(("order", "replicas"), ORDERS)
async def test_postgres_rabbitmq_confirm_and_cancel_at_once_leave_no_pickup(
    serve_transfers: Any, order: str, replicas: int
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_transfer_{uuid.uuid4().hex}"
    try:
        jobs = await run(serve_transfers, url, order, replicas, rabbitmq=True)
    finally:
        await drop_database(url)
    assert_no_pickup_survives(jobs)


@pytest.mark.parametrize(("order", "replicas"), ORDERS[:3])
async def test_sqlite_confirm_and_cancel_at_once_leave_no_pickup(
    serve_transfers: Any, tmp_path: Path, order: str, replicas: int
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/transfer.db"
    assert_no_pickup_survives(await run(serve_transfers, url, order, replicas, rabbitmq=False))


async def test_versions_decide_between_a_confirmation_and_a_cancellation(service) -> None:
    """Not the arrival order: a cancellation older than the confirmation that opened the pickup
    leaves it; a confirmation not newer than the known cancellation opens none."""
    await service.add_vehicle()
    await service.add_driver()
    reinstated = service.booking(arrival=service.at(9), version=4)
    service.deliver(service.cancellation(reinstated, version=3))
    service.deliver(reinstated)  # reinstated after the cancellation: opens its pickup
    service.deliver(service.cancellation(reinstated, version=3))  # a stale retry: leaves it
    stale_confirmation = service.booking(arrival=service.at(15), version=2)
    service.deliver(service.cancellation(stale_confirmation, version=3))
    service.deliver(stale_confirmation)
    service.deliver(service.cancellation(stale_confirmation, version=None))  # a pre-version twin
    marker = service.booking(arrival=service.at(20))
    service.deliver(marker)
    await service.job_for(marker)

    assert (await service.job_for(reinstated))["status"] == "assigned"
    assert await service.jobs(reservation_id=stale_confirmation.reservation_id) == []
    (assigned, _) = await service.wait_published("transfer.assigned", 2)
    assert (assigned.aggregate_type, assigned.aggregate_id, assigned.aggregate_version) == (
        "reservation",
        reinstated.reservation_id,
        4,
    )

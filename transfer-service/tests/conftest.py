"""A running transfer-service on SQLite and the in-memory broker, driven like a neighbour would:
fleet set up over HTTP, bookings arriving as reservation events, and a probe queue recording
what the service publishes."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
)
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.rabbit import RabbitBus, delete_namespace
from hotel_common.testing import (
    Probe,
    deliver,
    eventually,
    guest_contact,
    reservation_cancelled,
    reservation_confirmed,
    running,
    scratch_url,
    transfer_request,
)
from transfer_service.config import Settings
from transfer_service.main import create_app

PUBLISHED = {"transfer.assigned", "transfer.cancelled"}
RABBIT = "amqp://guest:guest@127.0.0.1:5672/"
# A Saturday far enough ahead that nothing is ever "in the past".
DAY = datetime(2030, 6, 1, tzinfo=UTC)


@dataclass
class Service:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    probe: Probe
    publisher: RabbitBus | None = None  # set when the service runs on RabbitMQ
    _count: int = 0
    # A client per replica (the first is `client`): a request to another app on the database.
    replicas: list[httpx.AsyncClient] = field(default_factory=list)

    def booking(
        self,
        *,
        arrival: datetime | None = DAY.replace(hour=10),
        passengers: int = 2,
        luggage: int = 1,
        reservation_id: str | None = None,
        timezone: str = "Asia/Shanghai",
        version: int | None = 2,
        guest: GuestContact | None = None,
    ) -> ReservationConfirmed:
        """A confirmed booking (version 2: requested, then confirmed); with `arrival=None` it
        asks for no transfer."""
        transfer = (
            transfer_request(
                arrival_time=arrival,
                pickup_place="Shanghai Hongqiao T2, arrivals exit 5",
                passengers=passengers,
                luggage=luggage,
            )
            if arrival is not None
            else None
        )
        return reservation_confirmed(
            **({"reservation_id": reservation_id} if reservation_id else {}),
            property_name="Bund Garden Hotel",
            property_timezone=timezone,
            check_in=DAY.date(),
            check_out=(DAY + timedelta(days=2)).date(),
            guests=passengers,
            guest=guest
            or guest_contact(
                "zh-Hans", name="Lin Mei", email="lin.mei@example.com", phone="+8613900139000"
            ),
            transfer=transfer,
            aggregate_version=version,
        )

    def cancellation(
        self,
        booking: ReservationConfirmed,
        reason: str = "guest changed plans",
        version: int | None = 3,
    ) -> ReservationCancelled:
        return reservation_cancelled(booking, reason=reason, aggregate_version=version)

    def at(self, hour: int, minute: int = 0) -> datetime:
        """An instant (UTC) on the test day."""
        return DAY.replace(hour=hour, minute=minute)

    def deliver(self, event: IntegrationEvent) -> Envelope:
        return deliver(self.broker, event, "reservation-service")

    def redeliver(self, envelope: Envelope) -> None:
        self.broker.route(envelope)

    async def publish(self, envelopes: list[Envelope]) -> None:
        """Put `envelopes` on the bus at once, as reservation-service's relay does."""
        if self.publisher is None:
            for envelope in envelopes:
                self.broker.route(envelope)
        else:
            await self.publisher.publish(envelopes)

    def published(self, event_type: str) -> list[Envelope]:
        return self.probe.events(event_type)

    async def wait_published(self, event_type: str, count: int) -> list[Envelope]:
        return await eventually(lambda: self.published(event_type), lambda f: len(f) >= count)

    async def add_vehicle(
        self, vehicle_class: str = "sedan", seats: int = 3, luggage: int = 2, **extra: Any
    ) -> dict[str, Any]:
        self._count += 1
        body = {
            "plate": f"沪A·T{self._count:04d}",
            "description": f"Test {vehicle_class} #{self._count}",
            "vehicle_class": vehicle_class,
            "seats": seats,
            "luggage_capacity": luggage,
            **extra,
        }
        response = await self.client.post("/api/v1/vehicles", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def add_driver(self, name: str | None = None, **extra: Any) -> dict[str, Any]:
        self._count += 1
        body = {
            "name": name or f"Driver {self._count}",
            "phone": f"+86 138 0000 {self._count:04d}",
            "licence_number": f"SH-DL-{self._count:06d}",
            "licence_expires_on": (DAY + timedelta(days=3 * 365)).date().isoformat(),
            **extra,
        }
        response = await self.client.post("/api/v1/drivers", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def jobs(self, **filters: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/transfers", params={"limit": 200, **filters})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def job_for(self, booking: ReservationConfirmed) -> dict[str, Any]:
        """The booking's job once the service has handled the booking."""

        (job,) = await eventually(lambda: self.jobs(reservation_id=booking.reservation_id))
        return job


@asynccontextmanager
async def serve(
    database_url: str, replicas: int = 1, *, rabbitmq: bool = False, **settings: Any
) -> AsyncIterator[Service]:
    """Run the service; several replicas share the database and compete for the one queue.
    The client talks to the first. With `rabbitmq` the replicas consume from the machine's
    RabbitMQ (a namespace of their own, removed afterwards) and `publish` goes through it."""
    broker = InMemoryBroker()
    probe = Probe(broker, PUBLISHED)
    namespace = f"test-{uuid.uuid4().hex[:8]}."
    retry_delays = [0.01, 0.05]
    if rabbitmq:
        settings |= {"bus": "rabbitmq", "rabbitmq_url": RABBIT, "bus_namespace": namespace}
    try:
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    running(
                        create_app(
                            Settings(
                                database_url=database_url,
                                retry_delays=retry_delays,
                                log_json=False,
                                **settings,
                            ),
                            broker=broker,
                        )
                    )
                )
                for _ in range(replicas)
            ]
            service = Service(clients[0], broker, probe, replicas=clients)
            if rabbitmq:
                for client in clients:  # every replica consumes before anything is published
                    await eventually(lambda c=client: _ready(c), timeout=15)
                service.publisher = RabbitBus(RABBIT, "test-publisher", namespace=namespace)
                await service.publisher.start()
                await eventually(service.publisher.ready, timeout=15)
                stack.push_async_callback(service.publisher.close)
            yield service
    finally:
        if rabbitmq:
            await delete_namespace(RABBIT, namespace, ["transfer-service"], retry_delays)


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health/ready")).status_code == 200


@pytest.fixture
def serve_transfers() -> Any:
    return serve


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async with serve(f"sqlite+aiosqlite:///{tmp_path}/transfer.db") as running_service:
        yield running_service


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """A service for the fleet's own tests (vehicles, drivers), on SQLite and on PostgreSQL."""
    url = scratch_url(request.param, tmp_path, "fleet")
    try:
        async with serve(url) as service:
            yield service
    finally:
        if request.param == "postgresql":
            await drop_database(url)


def days(n: int) -> str:
    """The date `n` days from today, as ISO text."""
    return (date.today() + timedelta(days=n)).isoformat()

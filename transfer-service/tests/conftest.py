"""A running transfer-service on SQLite and the in-memory broker, driven like a neighbour would:
fleet set up over HTTP, bookings arriving as reservation events, and a probe queue recording
what the service publishes."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
    TransferRequest,
)
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import eventually, running
from transfer_service.config import Settings
from transfer_service.main import create_app

PUBLISHED = {"transfer.assigned", "transfer.cancelled"}
# A Saturday far enough ahead that nothing is ever "in the past".
DAY = datetime(2030, 6, 1, tzinfo=UTC)


@dataclass
class Service:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    seen: list[Envelope] = field(default_factory=list)
    _count: int = 0

    def booking(
        self,
        *,
        arrival: datetime | None = DAY.replace(hour=10),
        passengers: int = 2,
        luggage: int = 1,
        reservation_id: str | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> ReservationConfirmed:
        """A confirmed booking; with `arrival=None` it asks for no transfer."""
        rid = reservation_id or f"res-{uuid.uuid4().hex[:8]}"
        transfer = (
            TransferRequest(
                flight_number="MU5101",
                arrival_time=arrival,
                pickup_place="Shanghai Hongqiao T2, arrivals exit 5",
                passengers=passengers,
                luggage=luggage,
            )
            if arrival is not None
            else None
        )
        return ReservationConfirmed(
            reservation_id=rid,
            confirmation_number=f"HB-{rid[-8:].upper()}",
            property_name="Bund Garden Hotel",
            property_timezone=timezone,
            room_type_code="DLX",
            room_type_name="Deluxe King",
            check_in=DAY.date(),
            check_out=(DAY + timedelta(days=2)).date(),
            guests=passengers,
            total_amount=198000,
            currency="CNY",
            guest=GuestContact(
                name="Lin Mei",
                email="lin.mei@example.com",
                phone="+8613900139000",
                language="zh-Hans",
            ),
            transfer=transfer,
        )

    def cancellation(
        self, booking: ReservationConfirmed, reason: str = "guest changed plans"
    ) -> ReservationCancelled:
        return ReservationCancelled(
            reservation_id=booking.reservation_id,
            confirmation_number=booking.confirmation_number,
            property_name=booking.property_name,
            check_in=booking.check_in,
            check_out=booking.check_out,
            reason=reason,
            was_confirmed=True,
            guest=booking.guest,
        )

    def at(self, hour: int, minute: int = 0) -> datetime:
        """An instant (UTC) on the test day."""
        return DAY.replace(hour=hour, minute=minute)

    def deliver(self, event: IntegrationEvent) -> Envelope:
        envelope = Envelope.wrap(event, "reservation-service")
        self.broker.route(envelope)
        return envelope

    def redeliver(self, envelope: Envelope) -> None:
        self.broker.route(envelope)

    def published(self, event_type: str) -> list[Envelope]:
        probe = self.broker.queues["probe"].messages
        while not probe.empty():
            self.seen.append(probe.get_nowait()[0])
        return [e for e in self.seen if e.type == event_type]

    async def wait_published(self, event_type: str, count: int) -> list[Envelope]:
        async def probe() -> list[Envelope]:
            return self.published(event_type)

        return await eventually(probe, lambda found: len(found) >= count)

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

        async def probe() -> list[dict[str, Any]]:
            return await self.jobs(reservation_id=booking.reservation_id)

        (job,) = await eventually(probe)
        return job


@asynccontextmanager
async def serve(database_url: str, replicas: int = 1, **settings: Any) -> AsyncIterator[Service]:
    """Run the service; several replicas share the database and compete for the one queue,
    as replicas on RabbitMQ do. The client talks to the first."""
    broker = InMemoryBroker()
    broker.declare("probe", PUBLISHED)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                running(
                    create_app(
                        Settings(
                            database_url=database_url,
                            retry_delays=[0.01, 0.05],
                            log_json=False,
                            **settings,
                        ),
                        broker=broker,
                    )
                )
            )
            for _ in range(replicas)
        ]
        yield Service(clients[0], broker)


@pytest.fixture
def serve_transfers() -> Any:
    return serve


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async with serve(f"sqlite+aiosqlite:///{tmp_path}/transfer.db") as running_service:
        yield running_service

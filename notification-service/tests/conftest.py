"""A running notification-service on SQLite and the in-memory broker, a real SMTP server
(aiosmtpd) on a free loopback port, and sample events as the neighbouring services send them.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotel_common.contracts.reservations import (
    GuestContact,
    Language,
    ReservationCancelled,
    ReservationConfirmed,
    TransferRequest,
)
from hotel_common.contracts.transfers import TransferAssigned
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import MailServer, eventually, running
from notification_service.config import Settings
from notification_service.main import create_app


@dataclass
class Service:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    sent: list[Envelope] = field(default_factory=list)

    def deliver(self, event: IntegrationEvent | Envelope) -> Envelope:
        envelope = event if isinstance(event, Envelope) else Envelope.wrap(event, "other-service")
        self.broker.route(envelope)
        return envelope

    async def notices(self, **filters: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/notifications", params=filters)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notice(self, notification_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/notifications/{notification_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_for(
        self, reservation_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The one notice of a reservation, once `until` holds for it."""

        async def probe() -> list[dict[str, Any]]:
            return await self.notices(reservation_id=reservation_id)

        found = await eventually(probe, lambda ns: len(ns) == 1 and until(ns[0]), timeout)
        return found[0]


StartService = Callable[..., AbstractAsyncContextManager[Service]]


@pytest.fixture
def start_service(tmp_path: Path) -> StartService:
    """`async with start_service(smtp_url=...) as svc:` with small delays for tests."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Service]:
        options: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db",
            "retry_delays": [0.01, 0.05],
            "log_json": False,
            "smtp_timeout": 2.0,
            "delivery_backoff_seconds": [0.05],
            **overrides,
        }
        broker = options.pop("broker", None) or InMemoryBroker()
        app = create_app(Settings(**options), broker=broker)
        async with running(app) as client:
            yield Service(client, broker)

    return start


@pytest.fixture
async def mail_server() -> AsyncIterator[MailServer]:
    server = await MailServer().start()
    yield server
    await server.stop()


class Samples:
    """Events as reservation-service and transfer-service publish them."""

    def confirmed(
        self, language: Language = "en", *, with_transfer: bool = False, **overrides: Any
    ) -> ReservationConfirmed:
        rid = overrides.pop("reservation_id", f"res-{uuid.uuid4().hex[:8]}")
        fields: dict[str, Any] = {
            "reservation_id": rid,
            "confirmation_number": f"HV{uuid.uuid4().hex[:6].upper()}",
            "property_name": "Harbour View Hotel",
            "property_timezone": "Asia/Shanghai",
            "room_type_code": "DLX",
            "room_type_name": "Deluxe King Room",
            "check_in": date(2030, 6, 1),
            "check_out": date(2030, 6, 4),
            "guests": 2,
            "total_amount": 128000,
            "currency": "CNY",
            "guest": self.guest(language),
            "transfer": (
                TransferRequest(
                    flight_number="MU5101",
                    arrival_time=datetime(2030, 6, 1, 6, 30, tzinfo=UTC),
                    pickup_place="Pudong Airport T2, arrivals exit 5",
                    passengers=2,
                )
                if with_transfer
                else None
            ),
        }
        return ReservationConfirmed(**(fields | overrides))

    def assigned(self, language: Language = "en", **overrides: Any) -> TransferAssigned:
        fields: dict[str, Any] = {
            "transfer_id": f"tr-{uuid.uuid4().hex[:8]}",
            "reservation_id": f"res-{uuid.uuid4().hex[:8]}",
            "confirmation_number": f"HV{uuid.uuid4().hex[:6].upper()}",
            "guest": self.guest(language),
            "pickup_place": "Pudong Airport T2, arrivals exit 5",
            "destination": "Harbour View Hotel",
            # 06:30 UTC is 14:30 in Shanghai; the driver is there 30 minutes earlier.
            "pickup_time": datetime(2030, 6, 1, 6, 30, tzinfo=UTC),
            "driver_on_site_at": datetime(2030, 6, 1, 6, 0, tzinfo=UTC),
            "flight_number": "MU5101",
            "driver_name": "Zhang Wei",
            "driver_phone": "+86 139 0013 9000",
            "vehicle_plate": "沪A·12345",
            "vehicle_description": "black Buick GL8, 7 seats",
            "property_timezone": "Asia/Shanghai",
        }
        return TransferAssigned(**(fields | overrides))

    def cancelled(self, language: Language = "en", **overrides: Any) -> ReservationCancelled:
        fields: dict[str, Any] = {
            "reservation_id": f"res-{uuid.uuid4().hex[:8]}",
            "confirmation_number": f"HV{uuid.uuid4().hex[:6].upper()}",
            "property_name": "Harbour View Hotel",
            "check_in": date(2030, 6, 1),
            "check_out": date(2030, 6, 4),
            "reason": "guest request",
            "was_confirmed": True,
            "guest": self.guest(language),
        }
        return ReservationCancelled(**(fields | overrides))

    @staticmethod
    def guest(language: Language) -> GuestContact:
        name = {"en": "Emma Clarke", "zh-Hans": "李明", "zh-Hant": "陳美玲"}[language]
        return GuestContact(
            name=name,
            email=f"guest-{uuid.uuid4().hex[:6]}@example.com",
            phone="+86 138 0000 0000",
            language=language,
        )


@pytest.fixture
def samples() -> Samples:
    return Samples()

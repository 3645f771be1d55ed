"""A running guest-service per test (own SQLite file, in-memory broker) and booking builders."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.contracts.reservations import (
    Language,
    ReservationCancelled,
    ReservationConfirmed,
)
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import (
    deliver,
    eventually,
    guest_contact,
    reservation_cancelled,
    reservation_confirmed,
    running,
)


def sqlite_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        retry_delays=[0.01, 0.05],
        log_json=False,
        **changes,
    )


@dataclass
class GuestService:
    client: httpx.AsyncClient
    broker: InMemoryBroker

    def deliver(self, event: IntegrationEvent) -> Envelope:
        """Publish as reservation-service would; the service consumes it asynchronously."""
        return deliver(self.broker, event, "reservation-service")

    async def find(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/guests", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def guest(self, guest_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/guests/{guest_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def profile(self, email: str) -> dict[str, Any] | None:
        """The profile holding `email`, with its stays, or None."""
        found = await self.find(email=email)
        return await self.guest(found[0]["id"]) if found else None

    async def profile_with_stays(self, email: str, count: int) -> dict[str, Any]:
        """Wait until the profile holding `email` has `count` stays."""
        profile = await eventually(
            lambda: self.profile(email), until=lambda p: p is not None and len(p["stays"]) == count
        )
        assert profile is not None
        return profile

    async def suggestions(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/guests/merge-suggestions", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post("/api/v1/guests", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GuestService]:
    broker = InMemoryBroker()
    async with running(create_app(sqlite_settings(tmp_path), broker=broker)) as client:
        yield GuestService(client, broker)


def booking(
    email: str = "li.wei@example.com",
    phone: str | None = "+86 138 0013 8000",
    name: str = "Li Wei",
    language: Language = "zh-Hans",
    **changes: Any,
) -> ReservationConfirmed:
    """A booking of two nights from 1 May 2026 by the given guest (hotel_common.testing)."""
    return reservation_confirmed(
        **{
            "check_in": date(2026, 5, 1),
            "check_out": date(2026, 5, 3),
            "guest": guest_contact(language, name=name, email=email, phone=phone),
            **changes,
        }
    )


def cancellation(of: ReservationConfirmed, was_confirmed: bool = True) -> ReservationCancelled:
    return reservation_cancelled(of, was_confirmed=was_confirmed)


@pytest.fixture
def make_booking() -> Callable[..., ReservationConfirmed]:
    return booking


@pytest.fixture
def make_cancellation() -> Callable[..., ReservationCancelled]:
    return cancellation

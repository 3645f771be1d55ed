import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import Probe, eventually, running
from reservation_service.config import Settings
from reservation_service.main import create_app

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
EVENTS = {"reservation.confirmed", "reservation.cancelled"}


def hotel_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


class Hotel:
    """The service under test seen through its HTTP API, with a probe queue on the bus."""

    def __init__(self, client: httpx.AsyncClient, broker: InMemoryBroker) -> None:
        self.client = client
        start = hotel_today() + timedelta(days=10)
        self.stay = (start.isoformat(), (start + timedelta(days=3)).isoformat())
        self.probe = Probe(broker, EVENTS)  # declared before anything is published

    def booking(self, **overrides: Any) -> dict[str, Any]:
        """Body of a valid booking request; keyword arguments replace top-level fields."""
        body: dict[str, Any] = {
            "guest": {
                "name": "Li Wei",
                "email": "Li.Wei@Example.com",
                "phone": "+86 138-0013-8000",
                "language": "zh-Hans",
            },
            "room_type_code": "KNG",
            "check_in": self.stay[0],
            "check_out": self.stay[1],
            "guests": 2,
        }
        body.update(overrides)
        return body

    async def book(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post("/api/v1/reservations", json=self.booking(**overrides))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def confirm(self, reservation_id: str) -> httpx.Response:
        return await self.client.post(f"/api/v1/reservations/{reservation_id}/confirm")

    async def cancel(self, reservation_id: str, reason: str | None = None) -> httpx.Response:
        body = {"reason": reason} if reason else None
        return await self.client.post(f"/api/v1/reservations/{reservation_id}/cancel", json=body)

    async def reservation(self, reservation_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/reservations/{reservation_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def available(self, code: str, check_in: str = "", check_out: str = "") -> int:
        response = await self.client.get(
            "/api/v1/availability",
            params={"check_in": check_in or self.stay[0], "check_out": check_out or self.stay[1]},
        )
        assert response.status_code == 200, response.text
        by_code = {t["room_type_code"]: t["available"] for t in response.json()["room_types"]}
        return by_code[code]

    async def reservations(self, **filters: Any) -> list[dict[str, Any]]:
        """Every booking the list endpoint returns, following its cursor."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {**filters, "limit": 200}
        while True:
            page = await self.client.get("/api/v1/reservations", params=params)
            assert page.status_code == 200, page.text
            found += page.json()["items"]
            if not (cursor := page.json()["next_cursor"]):
                return found
            params["cursor"] = cursor

    async def add_room_type(self, code: str, rooms: int, capacity: int = 2) -> None:
        """A room type with `rooms` rooms, for tests that need a small, known inventory."""
        created = await self.client.post(
            "/api/v1/room-types",
            json={
                "code": code,
                "name": f"Test {code}",
                "capacity": capacity,
                "bed_type": "queen",
                "base_amount": 30000,
            },
        )
        assert created.status_code == 201, created.text
        for i in range(rooms):
            room = await self.client.post(
                "/api/v1/rooms", json={"number": f"{code}-{i}", "floor": 2, "room_type_code": code}
            )
            assert room.status_code == 201, room.text

    async def published(self) -> list[Envelope]:
        """Everything published so far: waits until the outbox is empty, then reads the probe."""

        await eventually(
            lambda: self.client.get("/admin/outbox"), lambda r: r.json()["pending"] == 0
        )
        return self.probe.events()


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False, seed_demo=True)


@pytest.fixture
def broker() -> InMemoryBroker:
    return InMemoryBroker()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/x.db"


@pytest.fixture
async def hotel(sqlite_url: str, broker: InMemoryBroker) -> AsyncIterator[Hotel]:
    """The service on a fresh SQLite file, with the demo hotel seeded."""
    async with running(create_app(settings_for(sqlite_url), broker=broker)) as client:
        yield Hotel(client, broker)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def hotel_on_each_db(
    request: pytest.FixtureRequest, tmp_path: Path, broker: InMemoryBroker
) -> AsyncIterator[Hotel]:
    """The seeded service on SQLite, then on PostgreSQL (which must be up: never skipped)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    else:
        url = f"{PG}/test_{uuid.uuid4().hex}"
    try:
        async with running(create_app(settings_for(url), broker=broker)) as client:
            yield Hotel(client, broker)
    finally:
        await drop_database(url)

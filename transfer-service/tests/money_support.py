"""A running transfer-service plus a session on its database, for the money, board and
analytics tests: places, vehicles, drivers and jobs in any state are written straight into the
database (the live steps and the planning have tests of their own), everything read back
through the API. On SQLite and on PostgreSQL."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hotel_common.db import create_engine, drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers, scratch_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession
from transfer_service.config import Settings
from transfer_service.models import Driver, Place, TransferJob, Vehicle, VehicleClass

from .conftest import Service, serve

ZONE = "Asia/Shanghai"
# A day far enough ahead that nothing is ever "in the past", whatever the calendar says.
DAY = (datetime.now(UTC) + timedelta(days=30)).date()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a local wall-clock time at the property."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def staff(*roles: Role, driver_id: int | None = None) -> Principal:
    name = "-".join(roles) or "none"
    return Principal(
        id=f"staff:{name}", kind=Kind.STAFF, roles=frozenset(roles), driver_id=driver_id
    )


def guest(email: str) -> Principal:
    return Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email)


@dataclass
class Desk:
    service: Service
    engine: AsyncEngine
    settings: Settings
    _n: int = 0

    def session(self) -> AsyncSession:
        return AsyncSession(self.engine, expire_on_commit=False)

    async def get(self, path: str, who: Principal | None = None, **params: Any) -> Any:
        headers = principal_headers(who) if who else {}
        return await self.service.client.get(path, params=params, headers=headers)

    async def add(self, *rows: Any) -> None:
        async with self.session() as session:
            session.add_all(rows)
            await session.commit()

    async def place(self, code: str, kind: str = "airport") -> Place:
        place = Place(code=code, name=f"Place {code}", kind=kind)
        await self.add(place)
        return place

    async def vehicle(self, vehicle_class: str = "van") -> Vehicle:
        self._n += 1
        vehicle = Vehicle(
            plate=f"T-{self._n:04d}-{uuid.uuid4().hex[:4]}",
            description=f"Test {vehicle_class}",
            vehicle_class=VehicleClass(vehicle_class),
            seats=6,
            luggage_capacity=4,
        )
        await self.add(vehicle)
        return vehicle

    async def driver(self, name: str = "Wang Lei", **extra: Any) -> Driver:
        self._n += 1
        driver = Driver(
            name=name, phone=f"+861380000{self._n:04d}", licence_number=f"L-{self._n}", **extra
        )
        await self.add(driver)
        return driver

    async def job(self, pickup: datetime, **columns: Any) -> TransferJob:
        """A job picking up at `pickup`, an hour's ride, crew window from 90 min before."""
        values: dict[str, Any] = {
            "reservation_id": str(uuid.uuid4()),
            "guest_name": "Lin Mei",
            "guest_email": "lin.mei@example.com",
            "guest_language": "zh-Hans",
            "pickup_place": "PVG",
            "destination": "Bund Garden Hotel",
            "pickup_time": pickup,
            "driver_on_site_at": pickup - timedelta(minutes=30),
            "ends_at": pickup + timedelta(minutes=60),
            "busy_from": pickup - timedelta(minutes=90),
            "busy_until": pickup + timedelta(minutes=120),
            "driven_minutes": 180,
            "pickup_date": pickup.astimezone(ZoneInfo(ZONE)).date(),
            "property_timezone": ZONE,
            "passengers": 2,
            "luggage": 1,
            **columns,
        }
        job = TransferJob(**values)
        await self.add(job)
        return job


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    url = scratch_url(request.param, tmp_path, "transfer_money")
    try:
        async with serve(url) as service:
            engine = create_engine(url)
            try:
                yield Desk(service, engine, Settings(database_url=url))
            finally:
                await engine.dispose()
    finally:
        if request.param == "postgresql":
            await drop_database(url)

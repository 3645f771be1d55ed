"""What the dispatch and live tests share (issue 18): a running transfer-service on SQLite
or PostgreSQL with a probe on everything it publishes, a day ten days ahead in the property's
zone, and helpers to set up a fleet with shifts and bookings with flights."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import (
    Probe,
    eventually,
    guest_contact,
    principal_headers,
    reservation_confirmed,
    scratch_url,
    transfer_request,
)

from .conftest import Service, serve

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]
EVENTS = {
    "transfer.assigned",
    "transfer.cancelled",
    "transfer.reassigned",
    "transfer.rescheduled",
    "transfer.status_changed",
}
TZ = ZoneInfo("Asia/Shanghai")
DAY = (datetime.now(TZ) + timedelta(days=10)).date()


def local(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """An instant (UTC) at this local time on the test day (plus `days`)."""
    return datetime.combine(DAY + timedelta(days=days), time(hour, minute), TZ).astimezone(UTC)


def staff(*roles: Role, driver_id: int | None = None, name: str = "desk") -> Principal:
    return Principal(
        id=f"staff:{name}", kind=Kind.STAFF, roles=frozenset(roles), driver_id=driver_id
    )


DISPATCHER = staff(Role.DISPATCHER, name="dispatcher-1")


@dataclass
class Desk:
    service: Service
    probe: Probe
    count: int = 0
    # Per job, how many audit lines it had when the test got it (the system's own: created,
    # assigned): `audit` answers what came after, i.e. what the test's actions wrote.
    marks: dict[str, int] = field(default_factory=dict)
    # Per job opened by `booking`, the booking it came from (to cancel it, change it).
    bookings: dict[str, ReservationConfirmed] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.service.client

    async def vehicle(self, seats: int = 3, luggage: int = 2, **extra: Any) -> dict[str, Any]:
        vehicle_class = "sedan" if seats <= 3 else "van"
        return await self.service.add_vehicle(vehicle_class, seats=seats, luggage=luggage, **extra)

    async def driver(
        self, name: str | None = None, start: str = "05:00", end: str = "23:00", **extra: Any
    ) -> dict[str, Any]:
        return await self.service.add_driver(name, shift_start=start, shift_end=end, **extra)

    async def booking(
        self,
        arrival: datetime,
        *,
        flight: str = "MU5101",
        passengers: int = 2,
        luggage: int = 1,
        language: str = "zh-Hans",
        **transfer: Any,
    ) -> dict[str, Any]:
        """A confirmed booking with a pickup; answers its job once the service has it."""
        booking = reservation_confirmed(
            property_name="Bund Garden Hotel",
            property_timezone="Asia/Shanghai",
            check_in=DAY,
            check_out=DAY + timedelta(days=2),
            guest=guest_contact(language),
            transfer=transfer_request(
                arrival_time=arrival,
                flight_number=flight,
                pickup_place="Pudong Airport T2, arrivals exit 5",
                passengers=passengers,
                luggage=luggage,
                **transfer,
            ),
            aggregate_version=2,
        )
        self.service.deliver(booking)
        job = await self.service.job_for(booking)
        self.bookings[job["id"]] = booking
        await self.mark(job["id"])
        return job

    async def job(self, transfer_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/transfers/{transfer_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(
        self, path: str, body: dict[str, Any] | None = None, who: Principal = DISPATCHER
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=principal_headers(who))

    async def act(
        self,
        transfer_id: str,
        action: str,
        body: dict[str, Any] | None = None,
        who: Principal = DISPATCHER,
    ) -> httpx.Response:
        return await self.post(f"/api/v1/transfers/{transfer_id}/{action}", body, who)

    async def trail(self, transfer_id: str) -> list[dict[str, Any]]:
        """The job's whole audit trail, its creation and first assignment included."""
        response = await self.client.get(f"/api/v1/transfers/{transfer_id}/audit")
        assert response.status_code == 200, response.text
        return list(response.json())

    async def mark(self, transfer_id: str) -> None:
        """From now on `audit` shows only the lines written after this point."""
        self.marks[transfer_id] = len(await self.trail(transfer_id))

    async def audit(self, transfer_id: str) -> list[dict[str, Any]]:
        """The audit lines written since the job was marked (on `booking`)."""
        return (await self.trail(transfer_id))[self.marks.get(transfer_id, 0) :]

    def events(self, event_type: str, transfer_id: str | None = None) -> list[Envelope]:
        return [
            e
            for e in self.probe.events(event_type)
            if transfer_id is None or e.payload["transfer_id"] == transfer_id
        ]

    async def wait_events(
        self, event_type: str, count: int, transfer_id: str | None = None
    ) -> list[Envelope]:
        return await eventually(
            lambda: self.events(event_type, transfer_id), lambda found: len(found) >= count
        )


@asynccontextmanager
async def open_desk(kind: str, tmp_path: Path, **settings: Any) -> AsyncIterator[Desk]:
    url = scratch_url(kind, tmp_path, "transfer_dispatch")
    try:
        async with serve(url, **settings) as service:
            yield Desk(service, Probe(service.broker, EVENTS))
    finally:
        if kind == "postgresql":
            await drop_database(url)

"""The scheduling tests' world: the service on SQLite or PostgreSQL (`world` runs each test on
both), places and travel times, bookings with arrivals, departures and needs.

Everything goes through the public API (places, travel times, shifts, maintenance, incidents)
and the event bus, as staff and the reservation service would.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common import db
from hotel_common.contracts.reservations import (
    DepartureRequest,
    ReservationConfirmed,
    TransferRequest,
)
from hotel_common.testing import eventually, guest_contact, reservation_confirmed, scratch_url

from .conftest import Service, serve

HOTEL = "Bund Garden Hotel"
ZONE = "Asia/Shanghai"
# A day a month ahead, never in the past; 00:00 in Shanghai is 16:00 UTC the day before.
DAY = (datetime.now(UTC) + timedelta(days=30)).date()


def local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """An instant (UTC) at `hour:minute` Shanghai time on `day`."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - timedelta(hours=8)


@dataclass
class World:
    service: Service
    url: str
    places: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.service.client

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def place(self, code: str, name: str, kind: str, *aliases: str) -> int:
        row = await self.post(
            "/api/v1/places", {"code": code, "name": name, "kind": kind, "aliases": list(aliases)}
        )
        self.places[code] = int(row["id"])
        return int(row["id"])

    async def travel(self, a: str, b: str, minutes: int) -> None:
        response = await self.client.put(
            f"/api/v1/travel-times/{self.places[a]}/{self.places[b]}", json={"minutes": minutes}
        )
        assert response.status_code in (200, 201), response.text

    async def shanghai(self) -> None:
        """The hotel, Pudong airport (50 min), Hongqiao station (25 min)."""
        await self.place("BUND", HOTEL, "property")
        await self.place("PVG", "Shanghai Pudong International Airport", "airport", "Pudong T2")
        await self.place("SHHQ", "Shanghai Hongqiao Railway Station", "station", "Hongqiao")
        await self.travel("BUND", "PVG", 50)
        await self.travel("BUND", "SHHQ", 25)

    async def shift(self, driver: dict[str, Any], starts: datetime, ends: datetime) -> None:
        await self.post(
            f"/api/v1/drivers/{driver['id']}/shifts",
            {"starts_at": starts.isoformat(), "ends_at": ends.isoformat()},
        )

    async def maintenance(self, vehicle: dict[str, Any], starts: date, ends: date) -> None:
        await self.post(
            f"/api/v1/vehicles/{vehicle['id']}/maintenance",
            {"starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "reason": "service"},
        )

    async def incident(self, starts: datetime, *, vehicle: Any = None, driver: Any = None) -> None:
        await self.post(
            "/api/v1/incidents",
            {
                "kind": "vehicle_breakdown" if vehicle else "driver_unavailable",
                **({"vehicle_id": vehicle["id"]} if vehicle else {}),
                **({"driver_id": driver["id"]} if driver else {}),
                "starts_at": starts.isoformat(),
                "description": "test",
            },
        )

    def booking(
        self,
        *,
        arrival: datetime | None = None,
        pickup_place: str = "Pudong T2",
        departure: datetime | None = None,
        dropoff_place: str = "PVG",
        version: int = 2,
        transfers_included: bool | None = None,
        guest_language: str = "en",
        **needs: Any,
    ) -> ReservationConfirmed:
        """A confirmed booking at the hotel: an arrival pickup at `arrival` (landing) and/or a
        departure drop-off for a flight at `departure`, with the party's `needs`."""
        party = {"passengers": 2, "luggage": 1} | needs
        transfer = (
            TransferRequest(
                flight_number=party.pop("flight_number", "MU5101"),
                arrival_time=arrival,
                pickup_place=pickup_place,
                **party,
            )
            if arrival is not None
            else None
        )
        leaving = (
            DepartureRequest(
                flight_number="MU5102",
                departure_time=departure,
                dropoff_place=dropoff_place,
                **({"passengers": 2, "luggage": 1} | needs),
            )
            if departure is not None
            else None
        )
        extra = {} if transfers_included is None else {"transfers_included": transfers_included}
        return reservation_confirmed(
            property_name=HOTEL,
            property_timezone=ZONE,
            check_in=DAY,
            check_out=DAY + timedelta(days=2),
            guest=guest_contact(guest_language),
            transfer=transfer,
            departure=leaving,
            aggregate_version=version,
            **extra,
        )

    async def jobs_of(self, booking: ReservationConfirmed, count: int = 1) -> list[dict[str, Any]]:
        return await eventually(
            lambda: self.service.jobs(reservation_id=booking.reservation_id),
            lambda found: len(found) >= count,
        )

    async def job_of(self, booking: ReservationConfirmed, kind: str = "arrival_pickup") -> Any:
        found = await self.jobs_of(booking)
        return next(j for j in found if j["kind"] == kind)

    async def settled(self, *bookings: ReservationConfirmed) -> list[dict[str, Any]]:
        """Each booking's first job, once all are handled (in delivery order)."""
        return [(await self.jobs_of(b))[0] for b in bookings]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def world(request: Any, tmp_path: Path) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "sched")
    try:
        async with serve(url) as service:
            yield World(service, url)
    finally:
        if request.param == "postgresql":
            await db.drop_database(url)


def uid() -> str:
    return uuid.uuid4().hex[:8]

"""What the tests of modification, cancellation fees, guarantee, no-show and expiry share: the
service on each database with sessions of one's own (to run a worker's pass as a replica
would), a probe on every lifecycle event, the inventory invariant, and terms of a rate plan."""

import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common import db
from hotel_common.db import SessionFactory, drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.outbox import SOURCE_INFO
from hotel_common.testing import Probe, running
from reservation_service import pricing
from reservation_service.main import create_app
from reservation_service.models import InventoryNight, Reservation, Room
from reservation_service.stays import nights
from sqlmodel import select

from .conftest import PG, Hotel, settings_for

LIFECYCLE = {
    "reservation.created",
    "reservation.confirmed",
    "reservation.modified",
    "reservation.cancelled",
    "reservation.no_show",
    "reservation.expired",
}


@dataclass
class Desk:
    hotel: Hotel
    sessions: SessionFactory
    probe: Probe
    url: str

    async def events(self, event_type: str | None = None) -> list[Any]:
        await self.hotel.published()  # the outbox drained
        return self.probe.events(event_type)

    def days(self, first: int, last: int) -> dict[str, str]:
        start = date.fromisoformat(self.hotel.stay[0])
        return {
            "check_in": (start + timedelta(days=first)).isoformat(),
            "check_out": (start + timedelta(days=last)).isoformat(),
        }

    async def booked(self, **overrides: Any) -> dict[str, Any]:
        """A confirmed booking."""
        created = await self.hotel.book(**overrides)
        confirmed = await self.hotel.confirm(created["id"])
        assert confirmed.status_code == 200, confirmed.text
        return dict(confirmed.json())

    async def patch(self, reservation_id: str, body: dict[str, Any]) -> Any:
        return await self.hotel.client.patch(f"/api/v1/reservations/{reservation_id}", json=body)

    async def history(self, reservation_id: str) -> list[dict[str, Any]]:
        answer = await self.hotel.client.get(f"/api/v1/reservations/{reservation_id}/history")
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    async def assert_inventory_consistent(self) -> None:
        """Every night's held count is exactly the confirmed bookings staying that night, and
        never more than the room type's rooms."""
        async with self.sessions() as session:
            rows = (await session.exec(select(InventoryNight))).all()
            rooms = Counter((await session.exec(select(Room.room_type_id))).all())
            bookings = (
                await session.exec(select(Reservation).where(Reservation.status == "confirmed"))
            ).all()
        held = {(n.room_type_id, n.night): n.held for n in rows if n.held}
        expected = Counter(
            (r.room_type_id, night) for r in bookings for night in nights(r.check_in, r.check_out)
        )
        assert held == dict(expected)
        assert all(count <= rooms[room_type] for (room_type, _), count in held.items()), held


async def _desk(url: str, broker: InMemoryBroker) -> AsyncIterator[Desk]:
    probe = Probe(broker, LIFECYCLE)
    engine = db.create_engine(url)
    try:
        async with running(create_app(settings_for(url), broker=broker)) as client:
            sessions = db.create_session_factory(engine, **{SOURCE_INFO: "reservation-service"})
            yield Desk(Hotel(client, broker), sessions, probe, url)
    finally:
        await engine.dispose()


@pytest.fixture
async def desk(tmp_path: Path, broker: InMemoryBroker) -> AsyncIterator[Desk]:
    """The seeded service on SQLite."""
    async for found in _desk(f"sqlite+aiosqlite:///{tmp_path}/x.db", broker):
        yield found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def desk_on_each_db(
    request: pytest.FixtureRequest, tmp_path: Path, broker: InMemoryBroker
) -> AsyncIterator[Desk]:
    """The seeded service on SQLite, then on PostgreSQL (which must be up)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    else:
        url = f"{PG}/test_{uuid.uuid4().hex}"
    try:
        async for found in _desk(url, broker):
            yield found
    finally:
        await drop_database(url)


@pytest.fixture
async def desk_on_postgresql(broker: InMemoryBroker) -> AsyncIterator[Desk]:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    try:
        async for found in _desk(url, broker):
            yield found
    finally:
        await drop_database(url)


def plan_terms(
    monkeypatch: pytest.MonkeyPatch,
    *,
    policy: pricing.CancellationPolicy | None = None,
    guarantee: pricing.Guarantee | None = None,
) -> None:
    """Bookings made from now on are quoted under these terms (a rate plan's, until the rates
    work lets a test set one up through the API)."""
    quote_stay = pricing.quote_stay

    async def quoted(*args: Any, **kwargs: Any) -> pricing.StayQuote:
        quote = await quote_stay(*args, **kwargs)
        changes: dict[str, Any] = {}
        if policy is not None:
            changes["policy"] = policy
        if guarantee is not None:
            changes["guarantee"] = guarantee
        return dataclasses.replace(quote, **changes)

    monkeypatch.setattr(pricing, "quote_stay", quoted)

"""On PostgreSQL, replicas assigning overlapping pickups at the same moment never share a
driver or a vehicle. Needs the machine's PostgreSQL; fails (never skips) if it is down."""

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hotel_common.db import drop_database


@pytest.mark.infra
async def test_concurrent_overlapping_pickups_never_share_driver_or_vehicle(
    serve_transfers,
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_transfer_{uuid.uuid4().hex}"
    try:
        async with serve_transfers(url, replicas=4) as service:
            for _ in range(5):
                await service.add_vehicle("sedan")
                await service.add_driver()
            # Eight guests landing within the same hour: every window overlaps every other.
            bookings = [service.booking(arrival=service.at(10, minute * 7)) for minute in range(8)]
            for booking in bookings:
                service.deliver(booking)
            jobs = [await service.job_for(booking) for booking in bookings]
            assigned = [j for j in jobs if j["status"] == "assigned"]
            notices = await service.wait_published("transfer.assigned", 5)
    finally:
        await drop_database(url)

    assert len(assigned) == 5  # five vehicles, five drivers
    assert Counter(j["status"] for j in jobs)["requested"] == 3
    assert len({j["vehicle"]["id"] for j in assigned}) == 5
    assert len({j["driver"]["id"] for j in assigned}) == 5
    assert len(notices) == 5


@pytest.mark.infra
async def test_concurrent_ad_hoc_orders_and_bookings_never_double_book(serve_transfers) -> None:
    """Twelve rides in one hour, half ordered over HTTP at once, half arriving as bookings on
    four replicas at the same moment: six crews, six covered, never one crew twice."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_transfer_{uuid.uuid4().hex}"
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    try:
        async with serve_transfers(url, replicas=4) as service:
            for _ in range(6):
                await service.add_vehicle("sedan")
                await service.add_driver()
            bookings = [service.booking(arrival=at + timedelta(minutes=5 * i)) for i in range(6)]
            for booking in bookings:
                service.deliver(booking)
            orders = [
                service.client.post(
                    "/api/v1/transfers",
                    json={
                        "guest": {"name": f"Guest {i}", "email": f"g{i}@example.com"},
                        "pickup_place": "Bund Garden Hotel",
                        "destination": "Pudong Airport",
                        "pickup_time": (at + timedelta(minutes=5 * i + 2)).isoformat(),
                        "passengers": 1,
                    },
                )
                for i in range(6)
            ]
            answers = await asyncio.gather(*orders)
            assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
            for booking in bookings:
                await service.job_for(booking)
            jobs = await service.jobs()
    finally:
        await drop_database(url)

    assert len(jobs) == 12
    assigned = [j for j in jobs if j["status"] == "assigned"]
    assert len(assigned) == 6
    assert len({j["vehicle"]["id"] for j in assigned}) == 6
    assert len({j["driver"]["id"] for j in assigned}) == 6
    assert {j["uncovered_reason"] for j in jobs if j["status"] == "requested"} == {
        "no_vehicle_free"
    }

"""On PostgreSQL, replicas assigning overlapping pickups at the same moment never share a
driver or a vehicle. Needs the machine's PostgreSQL; fails (never skips) if it is down."""

import uuid
from collections import Counter

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

"""Flight updates as an adversary sends them (issue 18 review): a time no flight can move to is
a 422 problem and changes nothing; a flight delayed past midnight stays that flight for its
scheduled date, so the feed's next update for it still finds its jobs."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hotel_common.testing import (
    reservation_confirmed,
    reservation_modified,
    transfer_request,
)

from .dispatch_world import BACKENDS, DAY, Desk, local, open_desk


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


@pytest.mark.parametrize(
    "new_time",
    ["9999-12-31T23:59:00+00:00", "0001-01-01T00:10:00+00:00", "far"],
)
async def test_a_flight_moved_to_the_end_of_time_is_refused_and_nothing_moves(
    desk: Desk, new_time: str
) -> None:
    await desk.vehicle()
    await desk.driver()
    job = await desk.booking(local(10))
    if new_time == "far":  # a year late is not a delay: another flight
        new_time = (datetime.fromisoformat(job["pickup_time"]) + timedelta(days=365)).isoformat()
    response = await desk.post(
        "/api/v1/flight-updates",
        {"flight_number": "MU5101", "date": DAY.isoformat(), "new_time": new_time},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await desk.job(job["id"]))["pickup_time"] == job["pickup_time"]
    assert await desk.audit(job["id"]) == []


async def test_a_late_evening_flight_delayed_past_midnight_can_be_delayed_again(
    desk: Desk,
) -> None:
    await desk.vehicle()
    await desk.driver(start="12:00", end="11:00")  # noon to the next morning
    job = await desk.booking(local(22, 30))
    for hours in (3, 4):  # 01:30 the next day, then 02:30: the feed keeps the scheduled date
        new_time = local(22, 30) + timedelta(hours=hours)
        response = await desk.post(
            "/api/v1/flight-updates",
            {"flight_number": "MU5101", "date": DAY.isoformat(), "new_time": new_time.isoformat()},
        )
        assert response.status_code == 200, response.text
        assert response.json()["rescheduled"] == [job["id"]], (hours, response.json())
        now = await desk.job(job["id"])
        assert datetime.fromisoformat(now["pickup_time"]) == new_time


async def test_a_booking_change_elsewhere_does_not_undo_a_flight_delay(desk: Desk) -> None:
    """The feed delays the flight three hours; then the guest changes something else of the
    booking (the stay), its transfer as booked: the pickup stays at the delayed time, and the
    guest is not told their pickup moved back to a landing that will not happen."""
    await desk.vehicle()
    await desk.driver()
    request = transfer_request(arrival_time=local(10), flight_number="MU5101")
    booking = reservation_confirmed(
        property_name="Bund Garden Hotel",
        property_timezone="Asia/Shanghai",
        check_in=DAY,
        check_out=DAY + timedelta(days=2),
        transfer=request,
        aggregate_version=2,
    )
    desk.service.deliver(booking)
    job = await desk.service.job_for(booking)
    response = await desk.post(
        "/api/v1/flight-updates",
        {"flight_number": "MU5101", "date": DAY.isoformat(), "new_time": local(13).isoformat()},
    )
    assert response.status_code == 200, response.text
    await desk.wait_events("transfer.rescheduled", 1, job["id"])
    change = reservation_modified(
        booking, check_out=DAY + timedelta(days=3), transfer=request, aggregate_version=3
    )
    desk.service.deliver(change)
    await asyncio.sleep(0.3)  # the change handled (nothing to wait for when nothing moves)
    now = await desk.job(job["id"])
    assert datetime.fromisoformat(now["pickup_time"]) == local(13), now["pickup_time"]
    assert len(desk.events("transfer.rescheduled", job["id"])) == 1

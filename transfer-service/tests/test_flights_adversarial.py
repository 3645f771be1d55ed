"""Flight updates as an adversary sends them (issue 18 review): a time no flight can move to is
a 422 problem and changes nothing; a flight delayed past midnight stays that flight for its
scheduled date, so the feed's next update for it still finds its jobs."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

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

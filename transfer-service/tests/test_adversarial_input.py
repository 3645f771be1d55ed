"""Adversarial review of issue 18, hostile input: instants and dates at the ends of the calendar
on every route that does arithmetic with them answer a clear 4xx problem (or an empty answer),
never a 500, and write nothing. On SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from hotel_common.principal import Role
from hotel_common.testing import assert_problem, principal_headers

from .dispatch_world import BACKENDS, DAY, Desk, local, open_desk, staff

MANAGER = staff(Role.MANAGER, name="manager-1")
LAST = "9999-12-31T20:00:00Z"


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def test_a_ride_ordered_for_the_end_of_time_is_refused(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver()
    body = {
        "guest": {"name": "Ada Wong", "email": "ada.wong@example.com"},
        "pickup_place": "Bund Garden Hotel",
        "destination": "PVG",
        "passengers": 1,
    }
    for when in (LAST, "2999-01-01T10:00:00+08:00"):
        refused = await desk.post("/api/v1/transfers", body | {"pickup_time": when})
        assert_problem(refused, 422, "pickup_too_far")
    assert await desk.service.jobs() == []
    fine = await desk.post("/api/v1/transfers", body | {"pickup_time": local(9).isoformat()})
    assert fine.status_code == 201, fine.text


async def test_a_shift_at_the_end_of_time_is_refused(desk: Desk) -> None:
    driver = await desk.driver()
    path = f"/api/v1/drivers/{driver['id']}/shifts"
    for starts, ends in (
        (LAST, "9999-12-31T23:00:00Z"),
        ("2999-01-01T08:00:00Z", "2999-01-01T16:00:00Z"),
    ):
        refused = await desk.post(path, {"starts_at": starts, "ends_at": ends}, MANAGER)
        assert_problem(refused, 422, "shift_too_far")
    listed = await desk.client.get(path, headers=principal_headers(MANAGER))
    assert listed.json()["items"] == []


async def test_analytics_and_maintenance_at_the_ends_of_the_calendar_answer(desk: Desk) -> None:
    car = await desk.vehicle()
    for day in ("9999-12-31", "0001-01-01"):
        answer = await desk.client.get(
            "/api/v1/analytics/transfers",
            params={"from": day, "to": day},
            headers=principal_headers(MANAGER),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["jobs"] == 0
    path = f"/api/v1/vehicles/{car['id']}/maintenance"
    past = await desk.post(
        path, {"starts_on": "0001-01-01", "ends_on": "0001-01-01", "reason": "x"}
    )
    assert_problem(past, 422, "maintenance_in_past")
    far = await desk.post(path, {"starts_on": "9999-12-31", "ends_on": "9999-12-31", "reason": "x"})
    assert far.status_code == 201, far.text


async def test_a_vehicle_back_on_the_first_day_of_the_calendar_calls_the_period_off(
    desk: Desk,
) -> None:
    car = await desk.vehicle()
    path = f"/api/v1/vehicles/{car['id']}/maintenance"
    day = DAY.isoformat()
    made = await desk.post(path, {"starts_on": day, "ends_on": day, "reason": "Service"})
    assert made.status_code == 201, made.text

    ended = await desk.post(f"{path}/{made.json()['id']}/end", {"back_on": "0001-01-01"})

    assert ended.status_code == 200, ended.text
    assert ended.json()["ends_on"] == (DAY - timedelta(days=1)).isoformat()  # called off

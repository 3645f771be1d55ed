"""Reviewers' edge cases of issue 18, through the public API on SQLite and PostgreSQL: a shared
ride left with one party is no ride; a driver's licence is never set to one already expired;
an ad-hoc ride goes somewhere else; an incident's period is bounded; a live step takes no body."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common.principal import Role
from hotel_common.testing import assert_problem

from .dispatch_world import BACKENDS, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def shared_pair(desk: Desk) -> tuple[dict[str, Any], dict[str, Any]]:
    await desk.vehicle(seats=6, luggage=6)
    await desk.driver()
    first = await desk.booking(local(10), share_ok=True)
    second = await desk.booking(local(10), share_ok=True)
    first = await desk.job(first["id"])
    assert first["ride_id"] is not None and first["ride_id"] == second["ride_id"]
    assert "shared" in first["flags"] and "shared" in second["flags"]
    return first, second


@pytest.mark.parametrize(
    ("action", "body"), [("cancel", {"reason": "guest took a taxi"}), ("unassign", {})]
)
async def test_the_party_left_alone_on_a_shared_ride_rides_alone(
    desk: Desk, action: str, body: dict[str, Any]
) -> None:
    first, second = await shared_pair(desk)

    response = await desk.act(first["id"], action, body)
    assert response.status_code == 200, response.text

    alone = await desk.job(second["id"])
    assert alone["status"] == "assigned"
    assert (alone["vehicle"]["id"], alone["driver"]["id"]) == (
        second["vehicle"]["id"],
        second["driver"]["id"],
    )
    assert alone["ride_id"] is None
    assert "shared" not in alone["flags"]
    assert [line["action"] for line in await desk.audit(second["id"])] == ["unshared"]


async def test_a_ride_of_three_losing_one_stays_shared(desk: Desk) -> None:
    await desk.vehicle(seats=6, luggage=6)
    await desk.driver()
    jobs = [await desk.booking(local(10), share_ok=True) for _ in range(3)]
    ride = (await desk.job(jobs[0]["id"]))["ride_id"]

    response = await desk.act(jobs[0]["id"], "cancel", {"reason": "guest took a taxi"})
    assert response.status_code == 200, response.text

    for job in jobs[1:]:
        kept = await desk.job(job["id"])
        assert kept["ride_id"] == ride and "shared" in kept["flags"]


async def test_a_patch_cannot_set_a_licence_already_expired(desk: Desk) -> None:
    driver = await desk.driver()
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()

    response = await desk.client.patch(
        f"/api/v1/drivers/{driver['id']}", json={"licence_expires_on": yesterday}
    )

    assert_problem(response, 422, "licence_expired")
    fetched = await desk.client.get(f"/api/v1/drivers/{driver['id']}")
    assert fetched.json()["licence_expires_on"] == driver["licence_expires_on"]


def ride(**overrides: Any) -> dict[str, Any]:
    return {
        "guest": {"name": "Ada Wong", "email": "ada.wong@example.com"},
        "pickup_place": "Bund Garden Hotel",
        "destination": "Hongqiao",
        "pickup_time": local(9).isoformat(),
        "passengers": 2,
        **overrides,
    }


async def test_an_ad_hoc_ride_to_where_it_starts_is_refused(desk: Desk) -> None:
    await desk.vehicle()
    await desk.driver()
    place = {"code": "SHA", "name": "Hongqiao Airport", "kind": "airport", "aliases": ["Hongqiao"]}
    assert (await desk.client.post("/api/v1/places", json=place)).status_code == 201

    for pickup, destination in (
        ("Bund Garden Hotel", "  bund garden   HOTEL "),  # the same text
        ("Hongqiao", "Hongqiao Airport"),  # the same place
    ):
        body = ride(pickup_place=pickup, destination=destination)
        assert_problem(await desk.post("/api/v1/transfers", body), 422, "same_place")
    assert await desk.service.jobs() == []
    assert (await desk.post("/api/v1/transfers", ride())).status_code == 201


async def test_an_incident_period_is_bounded(desk: Desk) -> None:
    vehicle = await desk.vehicle()
    body = {"kind": "vehicle_breakdown", "vehicle_id": vehicle["id"], "description": "Flat tyre"}
    now = datetime.now(UTC)
    for period, code in (
        ({"starts_at": "0001-01-01T00:00:00+05:00"}, "incident_start_past"),
        ({"starts_at": (now - timedelta(hours=25)).isoformat()}, "incident_start_past"),
        ({"starts_at": "9999-12-31T23:00:00-05:00"}, "incident_start_too_far"),
        ({"starts_at": (now + timedelta(days=367)).isoformat()}, "incident_start_too_far"),
        ({"ends_at": "9999-12-31T23:59:59+00:00"}, "incident_too_long"),
        ({"ends_at": (now - timedelta(hours=1)).isoformat()}, "invalid_period"),
    ):
        assert_problem(await desk.post("/api/v1/incidents", body | period), 422, code)
    assert (await desk.client.get("/api/v1/incidents")).json()["items"] == []

    started = (now - timedelta(hours=23)).isoformat()
    ends = (now + timedelta(days=30)).isoformat()
    fine = await desk.post("/api/v1/incidents", body | {"starts_at": started, "ends_at": ends})
    assert fine.status_code == 201, fine.text


async def test_a_live_step_refuses_a_body(desk: Desk) -> None:
    await desk.vehicle()
    driver = await desk.driver()
    job = await desk.booking(local(10))
    own = staff(Role.DRIVER, driver_id=driver["id"], name="driver-1")
    path = f"/api/v1/transfers/{job['id']}/en-route"

    refused = await desk.post(path, {"at": local(8).isoformat()}, own)
    assert refused.status_code == 422, refused.text
    assert (await desk.job(job["id"]))["status"] == "assigned"

    empty = await desk.post(path, {}, own)
    assert empty.status_code == 200, empty.text
    assert empty.json()["status"] == "en_route"

"""Adversarial review of issue 18, the domain's edges: a vehicle taken to the workshop on a day
it has jobs has them reassigned (or escalated, flagged, when nothing can take them), as a
breakdown does; never left silently on a car in the workshop. On SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .dispatch_world import BACKENDS, DAY, Desk, local, open_desk


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def workshop(desk: Desk, vehicle: dict[str, object]) -> dict[str, object]:
    day = DAY.isoformat()
    made = await desk.post(
        f"/api/v1/vehicles/{vehicle['id']}/maintenance",
        {"starts_on": day, "ends_on": day, "reason": "Brake recall"},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_maintenance_over_an_assigned_job_moves_it_to_another_vehicle(desk: Desk) -> None:
    car = await desk.vehicle(seats=3)
    spare = await desk.vehicle(seats=6, luggage=6)
    await desk.driver()
    job = await desk.booking(local(12))
    assert job["vehicle"]["id"] == car["id"]

    period = await workshop(desk, car)

    assert period["reassigned"] == [job["id"]]
    assert period["jobs_to_move"] == []
    after = await desk.job(job["id"])
    assert (after["status"], after["vehicle"]["id"]) == ("assigned", spare["id"])
    assert after["driver"]["id"] == job["driver"]["id"]  # the driver was fine: kept
    (told,) = await desk.wait_events("transfer.reassigned", 1, job["id"])
    assert told.payload["reason"] == "vehicle_maintenance"
    (line,) = await desk.audit(job["id"])
    assert (line["action"], line["detail"]["maintenance_id"]) == ("reassigned", period["id"])


async def test_maintenance_over_a_job_nothing_else_carries_escalates_it(desk: Desk) -> None:
    car = await desk.vehicle(seats=3)
    await desk.driver()
    job = await desk.booking(local(12))

    period = await workshop(desk, car)

    assert (period["reassigned"], period["jobs_to_move"]) == ([], [job["id"]])
    after = await desk.job(job["id"])
    assert after["status"] == "requested"
    assert after["vehicle"] is None
    assert {"uncovered", "escalated"} <= set(after["flags"])
    (changed,) = await desk.wait_events("transfer.status_changed", 1, job["id"])
    assert changed.payload["status"] == "requested"
    assert [line["action"] for line in await desk.audit(job["id"])] == ["escalated"]


async def test_a_standing_shift_or_limit_leaving_an_assigned_job_off_shift_is_refused(
    desk: Desk,
) -> None:
    await desk.vehicle()
    driver = await desk.driver(start="05:00", end="23:00")
    job = await desk.booking(local(12))
    assert job["driver"]["id"] == driver["id"]
    path = f"/api/v1/drivers/{driver['id']}"

    for change in (
        {"shift_start": "05:00", "shift_end": "10:00"},  # the job's window is past its end
        {"daily_driving_limit_minutes": 30},  # the job alone drives longer
    ):
        refused = await desk.client.patch(path, json=change)
        assert refused.status_code == 409, (change, refused.text)
        assert refused.json()["code"] == "driver_has_jobs"
        assert refused.json()["jobs"] == [job["id"]]
    got = (await desk.client.get(path)).json()
    assert (got["shift_end"], got["daily_driving_limit_minutes"]) == ("23:00:00", 540)

    still = await desk.client.patch(path, json={"shift_start": "06:00", "shift_end": "22:00"})
    assert still.status_code == 200, still.text  # still covers the job: allowed


async def shared_ride(desk: Desk) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two parties of one flight who agreed to share, on one van with one driver."""
    await desk.vehicle(seats=6, luggage=6)
    await desk.driver()
    first = await desk.booking(local(12), share_ok=True)
    second = await desk.booking(local(12), share_ok=True)
    first = await desk.job(first["id"])  # its ride id was set when the second joined
    assert first["ride_id"] is not None and first["ride_id"] == second["ride_id"]
    return first, second


async def test_a_party_taken_off_a_shared_ride_leaves_it(desk: Desk) -> None:
    first, second = await shared_ride(desk)
    car = await desk.vehicle(seats=6, luggage=6)
    other = await desk.driver()

    off = await desk.act(first["id"], "unassign", {"reason": "guest asked for a car alone"})
    assert off.status_code == 200, off.text
    alone = await desk.job(first["id"])
    assert alone["ride_id"] is None and "shared" not in alone["flags"]

    # The ride's driver drives the other party at that very time: not this one in another car.
    same_driver = await desk.act(
        first["id"], "assign", {"vehicle_id": car["id"], "driver_id": second["driver"]["id"]}
    )
    assert (same_driver.status_code, same_driver.json()["code"]) == (409, "driver_busy")
    own = await desk.act(first["id"], "assign", {"vehicle_id": car["id"], "driver_id": other["id"]})
    assert own.status_code == 200, own.text
    kept = await desk.job(second["id"])
    assert (kept["status"], kept["vehicle"]["id"]) == ("assigned", second["vehicle"]["id"])


async def test_one_party_of_a_shared_ride_gets_no_second_driver_in_the_same_van(
    desk: Desk,
) -> None:
    first, _ = await shared_ride(desk)
    other = await desk.driver()

    swapped = await desk.act(first["id"], "swap", {"driver_id": other["id"]})

    assert (swapped.status_code, swapped.json()["code"]) == (409, "vehicle_busy")
    assert (await desk.job(first["id"]))["driver"]["id"] == first["driver"]["id"]


async def test_a_party_cancelling_a_shared_ride_leaves_the_other_its_van(desk: Desk) -> None:
    first, second = await shared_ride(desk)

    cancelled = await desk.act(first["id"], "cancel", {"reason": "plans changed"})

    assert cancelled.status_code == 200, cancelled.text
    kept = await desk.job(second["id"])
    assert kept["status"] == "assigned"
    assert (kept["vehicle"]["id"], kept["driver"]["id"]) == (
        second["vehicle"]["id"],
        second["driver"]["id"],
    )


async def test_a_licence_expiring_on_the_jobs_day_still_drives_it(desk: Desk) -> None:
    await desk.vehicle()
    driver = await desk.driver(licence_expires_on=DAY.isoformat())
    job = await desk.booking(local(12))
    assert (job["status"], job["driver"]["id"]) == ("assigned", driver["id"])

    earlier = (DAY - timedelta(days=1)).isoformat()
    refused = await desk.client.patch(
        f"/api/v1/drivers/{driver['id']}", json={"licence_expires_on": earlier}
    )
    assert (refused.status_code, refused.json()["jobs"]) == (409, [job["id"]])


async def test_a_job_past_midnight_counts_whole_on_its_pickups_local_day(desk: Desk) -> None:
    await desk.vehicle()
    driver = await desk.driver(start="12:00", end="08:00")  # an evening and night shift
    evening = await desk.booking(local(19))
    assert evening["driver"]["id"] == driver["id"]
    # One job drives 120 or 180 minutes (default travel times, out and back): room for one only.
    limited = await desk.client.patch(
        f"/api/v1/drivers/{driver['id']}", json={"daily_driving_limit_minutes": 200}
    )
    assert limited.status_code == 200, limited.text

    late = await desk.booking(local(23, 50))  # on the road well past midnight: still day one
    early = await desk.booking(local(0, 40, days=1))  # the next local day: a fresh limit

    assert (late["status"], late["uncovered_reason"]) == ("requested", "driver_limit")
    assert late["ends_at"] > local(0, days=1).isoformat().replace("+00:00", "Z")
    assert (early["status"], early["driver"]["id"]) == ("assigned", driver["id"])

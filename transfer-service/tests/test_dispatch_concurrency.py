"""Two dispatchers acting at once never put one driver or one vehicle on two overlapping jobs
(issue 18): the second waits on the driver's (vehicle's) row lock, then sees the first's job
and is refused. Meaningful on PostgreSQL (row locks, READ COMMITTED); SQLite runs one writer
at a time and must give the same answer."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hotel_common.principal import Role

from .dispatch_world import BACKENDS, Desk, local, open_desk, staff


@pytest.fixture(params=BACKENDS)
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(request.param, tmp_path) as opened:
        yield opened


async def test_two_dispatchers_giving_one_free_driver_to_two_overlapping_jobs_at_once(
    desk: Desk,
) -> None:
    vehicles = [await desk.vehicle() for _ in range(3)]
    for _ in range(2):
        await desk.driver()
    first = await desk.booking(local(10))
    second = await desk.booking(local(10, 10))
    free_driver = await desk.driver("Free Driver")
    taken = {first["vehicle"]["id"], second["vehicle"]["id"]}
    (free_vehicle_id,) = [v["id"] for v in vehicles if v["id"] not in taken]
    alice = staff(Role.DISPATCHER, name="alice")
    bob = staff(Role.DISPATCHER, name="bob")

    answers = await asyncio.gather(
        desk.act(first["id"], "swap", {"driver_id": free_driver["id"]}, who=alice),
        desk.act(second["id"], "swap", {"driver_id": free_driver["id"]}, who=bob),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    (refused,) = [a for a in answers if a.status_code == 409]
    assert refused.json()["code"] == "driver_busy"
    jobs = [await desk.job(first["id"]), await desk.job(second["id"])]
    assert [j["driver"]["id"] for j in jobs].count(free_driver["id"]) == 1

    # The same race for one free vehicle.
    answers = await asyncio.gather(
        desk.act(first["id"], "swap", {"vehicle_id": free_vehicle_id}, who=alice),
        desk.act(second["id"], "swap", {"vehicle_id": free_vehicle_id}, who=bob),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    jobs = [await desk.job(first["id"]), await desk.job(second["id"])]
    assert [j["vehicle"]["id"] for j in jobs].count(free_vehicle_id) == 1
    lines = [line for j in jobs for line in await desk.audit(j["id"])]
    assert len(lines) == 2  # one per successful action, none for the refusals


async def test_many_dispatchers_assigning_crews_at_once_never_double_book(desk: Desk) -> None:
    """Four waiting jobs in one hour, four dispatchers each giving every job the same two
    crews' members in turn: whatever wins, no driver or vehicle ends up on two of them."""
    vehicles = [await desk.vehicle() for _ in range(2)]
    drivers = [await desk.driver() for _ in range(2)]
    jobs = [await desk.booking(local(10, 10 * i)) for i in range(4)]
    for job in jobs:
        if job["status"] == "assigned":
            assert (await desk.act(job["id"], "unassign")).status_code == 200
    tries = [
        desk.act(
            job["id"],
            "assign",
            {"vehicle_id": vehicles[k % 2]["id"], "driver_id": drivers[(k + i) % 2]["id"]},
            who=staff(Role.DISPATCHER, name=f"d{k}"),
        )
        for i, job in enumerate(jobs)
        for k in range(2)
    ]
    answers = await asyncio.gather(*tries)
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    now = [await desk.job(job["id"]) for job in jobs]
    assigned = [j for j in now if j["status"] == "assigned"]
    assert 1 <= len(assigned) <= 2
    assert len({j["vehicle"]["id"] for j in assigned}) == len(assigned)
    assert len({j["driver"]["id"] for j in assigned}) == len(assigned)

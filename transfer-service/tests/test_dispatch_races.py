"""Adversarial races on PostgreSQL (issue 18 review): a fleet change, an incident and a
dispatcher's action interleaved at their worst moment, forced by holding one of them at a gate
while the other runs. Nobody ends on a broken vehicle, and nobody deadlocks."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hotel_common.principal import Role
from hotel_common.testing import principal_headers
from transfer_service import fleet, incidents

from .dispatch_world import Desk, local, open_desk, staff

MANAGER = staff(Role.MANAGER, name="manager-1")


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk("postgresql", tmp_path) as opened:
        yield opened


def gate(
    original: Callable[..., Awaitable[Any]],
) -> tuple[Callable[..., Awaitable[Any]], asyncio.Event, asyncio.Event]:
    """`original` held (its first call only) until `release` is set; `reached` says it is."""
    reached, release = asyncio.Event(), asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> Any:
        if not reached.is_set():
            reached.set()
            await release.wait()
        return await original(*args, **kwargs)

    return held, reached, release


@pytest.mark.infra
async def test_a_driver_edit_and_a_dispatcher_swap_at_once_never_deadlock(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manager's edit of a driver locks that driver's row, then (jobs waiting) the whole
    crew as every assignment does; a dispatcher's swap holds the vehicles and waits for that
    driver. Both must finish: the crew is locked in one order everywhere."""
    await desk.vehicle()
    await desk.driver("First")
    job = await desk.booking(local(10))
    assert job["status"] == "assigned"
    other = await desk.driver("Second")
    waiting = await desk.booking(local(12), passengers=6)  # nothing carries six: stays waiting
    assert waiting["status"] == "requested"
    held, reached, release = gate(fleet.changed)
    monkeypatch.setattr(fleet, "changed", held)

    edit = asyncio.create_task(
        desk.client.patch(
            f"/api/v1/drivers/{other['id']}",
            json={"name": "Second Renamed"},
            headers=principal_headers(MANAGER),
        )
    )
    await asyncio.wait_for(reached.wait(), 10)
    swap = asyncio.create_task(desk.act(job["id"], "swap", {"driver_id": other["id"]}))
    await asyncio.sleep(0.5)  # the swap now holds the vehicles and waits for the driver
    release.set()
    answers = await asyncio.wait_for(asyncio.gather(edit, swap), 20)

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert (await desk.job(job["id"]))["driver"]["id"] == other["id"]


@pytest.mark.infra
async def test_an_incident_racing_a_dispatcher_leaves_no_job_on_the_broken_vehicle(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vehicle breaks down while a dispatcher gives it to a waiting job: whichever commits
    first, the job does not end on the broken vehicle with the incident open."""
    vehicles = [await desk.vehicle(), await desk.vehicle()]
    driver = await desk.driver("First")
    job = await desk.booking(local(10))
    broken = next(v for v in vehicles if v["id"] == job["vehicle"]["id"])
    (spare,) = [v for v in vehicles if v is not broken]
    assert (await desk.act(job["id"], "unassign")).status_code == 200
    held, reached, release = gate(incidents.lock_jobs)
    monkeypatch.setattr(incidents, "lock_jobs", held)

    report = asyncio.create_task(
        desk.post(
            "/api/v1/incidents",
            {"kind": "vehicle_breakdown", "vehicle_id": broken["id"], "description": "flat tyre"},
        )
    )
    await asyncio.wait_for(reached.wait(), 10)  # the incident has looked for its jobs
    assign = asyncio.create_task(
        desk.act(job["id"], "assign", {"vehicle_id": broken["id"], "driver_id": driver["id"]})
    )
    await asyncio.sleep(0.5)
    release.set()
    answers = await asyncio.wait_for(asyncio.gather(report, assign), 20)
    assert answers[0].status_code == 201, answers[0].text
    assert answers[1].status_code in (200, 409), answers[1].text

    now = await desk.job(job["id"])
    assert now["status"] == "assigned"  # the spare took it
    assert now["vehicle"]["id"] == spare["id"], now

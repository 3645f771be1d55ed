"""Uncovered jobs are retried: when a change frees a crew, and periodically by the service's
worker (here every 0.2 s), in pickup order, each one covered announced. On SQLite and
PostgreSQL."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hotel_common import db
from hotel_common.testing import (
    eventually,
    reservation_cancelled,
    reservation_modified,
    scratch_url,
)

from .conftest import serve
from .scheduling import World, local
from .scheduling import world as world  # the fixture


async def test_a_cancelled_booking_frees_its_crew_for_a_waiting_job(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    first = world.booking(arrival=local(10))
    waiting = world.booking(arrival=local(10, 30))
    world.service.deliver(first)
    world.service.deliver(waiting)
    _, job = await world.settled(first, waiting)
    assert job["uncovered_reason"] == "no_vehicle_free"

    world.service.deliver(reservation_cancelled(first, aggregate_version=3))
    notices = await world.service.wait_published("transfer.assigned", 2)

    covered = await world.job_of(waiting)
    assert covered["status"] == "assigned"
    assert covered["uncovered_reason"] is None
    assert "uncovered" not in covered["flags"]
    assert notices[-1].payload["transfer_id"] == covered["id"]


async def test_a_moved_booking_frees_its_crew_for_a_waiting_job(world) -> None:
    await world.shanghai()
    await world.service.add_vehicle()
    await world.service.add_driver()
    first = world.booking(arrival=local(10))
    waiting = world.booking(arrival=local(10, 30))
    world.service.deliver(first)
    world.service.deliver(waiting)
    await world.settled(first, waiting)
    later = first.transfer.model_copy(update={"arrival_time": local(18)})

    world.service.deliver(reservation_modified(first, transfer=later, aggregate_version=3))
    await world.service.wait_published("transfer.assigned", 3)

    moved, covered = await world.settled(first, waiting)
    assert moved["status"] == covered["status"] == "assigned"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def quick(request: Any, tmp_path: Path) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "retry")
    try:
        async with serve(url, retry_interval_seconds=0.2) as service:
            yield World(service, url)
    finally:
        if request.param == "postgresql":
            await db.drop_database(url)


async def test_the_worker_covers_jobs_once_the_fleet_can(quick) -> None:
    await quick.shanghai()
    await quick.service.add_driver()
    early = quick.booking(arrival=local(9))
    late = quick.booking(arrival=local(15))
    quick.service.deliver(late)
    quick.service.deliver(early)
    assert {j["uncovered_reason"] for j in await quick.settled(late, early)} == {"no_vehicle_fits"}

    await quick.service.add_vehicle()  # nothing else tells the service: the worker finds it
    notices = await quick.service.wait_published("transfer.assigned", 2)

    assert [n.payload["reservation_id"] for n in notices] == [
        early.reservation_id,  # pickup order
        late.reservation_id,
    ]
    jobs = await eventually(
        lambda: quick.service.jobs(status="assigned"), lambda found: len(found) == 2
    )
    assert all(j["flags"] == [] for j in jobs)

"""Adversarial review of issue 18, on PostgreSQL with two app replicas: a flight update racing
the cancellation of the booking whose pickup it would move. Whichever commits first, the job
ends cancelled, unmoved by a flight it no longer waits for, and no guest is told of a new
pickup time for a ride that is off."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from transfer_service import jobs

from .dispatch_world import open_desk


@pytest.mark.infra
async def test_a_flight_update_waits_for_a_cancellation_and_then_leaves_the_job_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_desk("postgresql", tmp_path, replicas=2) as desk:
        await desk.vehicle()
        await desk.driver()
        booking = desk.service.booking()
        desk.service.deliver(booking)
        job = await desk.service.job_for(booking)
        assert job["status"] == "assigned"

        reached, release = asyncio.Event(), asyncio.Event()
        original = jobs.cancel_for_reservation

        async def held(*args: Any, **kwargs: Any) -> Any:
            cancelled = await original(*args, **kwargs)  # the job row locked and cancelled
            reached.set()
            await release.wait()  # ... and its transaction not yet committed
            return cancelled

        monkeypatch.setattr(jobs, "cancel_for_reservation", held)
        desk.service.deliver(desk.service.cancellation(booking))
        await asyncio.wait_for(reached.wait(), 10)
        landing = booking.transfer.arrival_time + timedelta(hours=2)  # type: ignore[union-attr]
        update = asyncio.create_task(
            desk.post(
                "/api/v1/flight-updates",
                {
                    "flight_number": job["flight_number"],
                    "date": job["pickup_date"],
                    "new_time": landing.isoformat(),
                },
            )
        )
        await asyncio.sleep(0.5)  # the update now waits for the job's row
        assert not update.done()
        release.set()
        answer = await asyncio.wait_for(update, 20)

        assert answer.status_code == 200, answer.text
        assert answer.json()["rescheduled"] == [] and answer.json()["jobs_affected"] == 0
        after = await desk.job(job["id"])
        assert after["status"] == "cancelled"
        assert after["pickup_time"] == job["pickup_time"]
        assert desk.events("transfer.rescheduled", job["id"]) == []

"""Both parties of one shared ride called off at the same instant, on PostgreSQL with two app
replicas: two dispatchers' cancels, or the two bookings' cancellations handled at once. Each
transaction holds its own job and then needs its ride mate's (the ride ends when one live party
is left: jobs._end_lone_rides); whatever the interleaving, both succeed (no deadlock, no 500, no
retried event), both jobs end cancelled and no live job keeps a ride of its own."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hotel_common.testing import eventually, principal_headers
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only
from transfer_service.models import TransferJob, TransferStatus

from .dispatch_world import DISPATCHER, Desk, local, open_desk


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk("postgresql", tmp_path, replicas=2) as opened:
        yield opened


class Gate:
    """The first transaction about to flush a ride job's cancellation (its own job locked, the
    ride's end not yet decided) is held there until `release` is set; `reached` says it is."""

    def __init__(self) -> None:
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    def __call__(self, session: Session, _context: object, _instances: object) -> None:
        if self.reached.is_set():
            return
        for job in session.dirty:
            if (
                isinstance(job, TransferJob)
                and job.ride_id is not None
                and TransferStatus.CANCELLED in inspect(job).attrs.status.history.added
            ):
                self.reached.set()
                await_only(self.release.wait())  # the flush runs in the session's greenlet
                return


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    event.listen(Session, "before_flush", held, insert=True)  # before the ride's end
    try:
        yield held
    finally:
        held.release.set()
        event.remove(Session, "before_flush", held)


async def shared_ride(desk: Desk) -> tuple[dict[str, Any], dict[str, Any]]:
    await desk.vehicle(seats=6, luggage=6)
    await desk.driver()
    first = await desk.booking(local(10), share_ok=True)
    second = await desk.booking(local(10), share_ok=True)
    first = await desk.job(first["id"])  # its ride id was set when the second joined
    assert first["status"] == second["status"] == "assigned"
    assert first["ride_id"] is not None and first["ride_id"] == second["ride_id"]
    return first, second


async def assert_both_off(desk: Desk, *transfer_ids: str) -> None:
    for transfer_id in transfer_ids:
        assert (await desk.job(transfer_id))["status"] == "cancelled"
    live = [j for j in await desk.service.jobs() if j["status"] != "cancelled"]
    for job in live:  # a live job on a ride shares it with another live job
        mates = [j for j in live if job["ride_id"] and j["ride_id"] == job["ride_id"]]
        assert job["ride_id"] is None or len(mates) > 1, job
        assert job["ride_id"] is not None or "shared" not in job["flags"], job


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.infra
async def test_two_dispatchers_cancelling_both_parties_of_a_ride_at_once_both_succeed(
    desk: Desk, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = await shared_ride(desk)
    one, other = desk.service.replicas
    headers = principal_headers(DISPATCHER)

    def cancel(client: Any, transfer_id: str) -> "asyncio.Task[Any]":
        path = f"/api/v1/transfers/{transfer_id}/cancel"
        return asyncio.create_task(
            client.post(path, json={"reason": "guest took a taxi"}, headers=headers)
        )

    caplog.clear()
    a = cancel(one, first["id"])
    await asyncio.wait_for(gate.reached.wait(), 10)  # the first holds its job, ride undecided
    b = cancel(other, second["id"])
    await asyncio.sleep(0.5)  # the second now has its job, or waits for the ride's rows
    gate.release.set()
    answers = await asyncio.wait_for(asyncio.gather(a, b), 30)

    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    await assert_both_off(desk, first["id"], second["id"])
    assert not [m for m in failures(caplog) if "deadlock" in m.lower()]


@pytest.mark.infra
async def test_both_bookings_of_a_ride_cancelled_at_once_cancel_both_without_a_retry(
    desk: Desk, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = await shared_ride(desk)
    caplog.set_level(logging.WARNING)
    caplog.clear()

    desk.service.deliver(desk.service.cancellation(desk.bookings[first["id"]]))
    await asyncio.wait_for(gate.reached.wait(), 10)  # one replica holds the first booking's job
    desk.service.deliver(desk.service.cancellation(desk.bookings[second["id"]]))
    await asyncio.sleep(0.5)  # the other replica has the second's, or waits for the ride's rows
    gate.release.set()

    await eventually(
        lambda: desk.service.published("transfer.cancelled"), lambda found: len(found) >= 2
    )
    await assert_both_off(desk, first["id"], second["id"])
    assert failures(caplog) == []  # no handler failed (a deadlock, then a retry)

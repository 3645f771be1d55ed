"""Dispatcher actions on a job: assign a named crew, swap crews, unassign, cancel. A named crew
is checked by the automatic assignment's own rules (`assignment.Planner.refusal`: one set of
crew rules); each action takes its row locks, writes one audit line per job and its events, in
the route's transaction; a refusal writes nothing.

Locks, always in this order (the order assignment.py and the handlers use): the job rows (by
id, with their shared rides' other jobs: jobs.lock_with_rides), then the vehicle rows, then the
driver rows (by id, FOR NO KEY UPDATE: `Planner.load`).
Two dispatchers putting one driver on two overlapping jobs at once: the second waits on the
crew rows until the first commits, then its planner's reads (new statements, READ COMMITTED)
see the first job and it refuses with 409 `driver_busy`. SQLite runs one writer at a time.
"""

from typing import Any

from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, and_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import announce, audit, coverage, jobs, outbound
from transfer_service.assignment import Assignment, Planner, Refusal
from transfer_service.config import Settings
from transfer_service.handlers import transfer_assigned
from transfer_service.models import Driver, TransferAudit, TransferJob, TransferStatus, Vehicle

# A crew may be named or changed until the driver has set off.
CREW_CHANGEABLE = (TransferStatus.REQUESTED, TransferStatus.ASSIGNED)
COVERED_FLAGS = ("uncovered", "escalated")


async def lock_jobs(
    session: AsyncSession, transfer_ids: list[str], visible: ColumnElement[bool] | None = None
) -> dict[str, TransferJob]:
    """The jobs, locked in id order with their shared rides' other jobs (jobs.lock_with_rides:
    any of them may leave its ride); 404 for the first one missing (or not visible)."""
    where: ColumnElement[bool] = col(TransferJob.id).in_(sorted(set(transfer_ids)))
    if visible is not None:
        where = and_(where, visible)
    found = {job.id: job for job in await jobs.lock_with_rides(session, where)}
    for transfer_id in transfer_ids:
        if transfer_id not in found:
            raise NotFound("transfer", transfer_id)
    return found


async def lock_job(
    session: AsyncSession, transfer_id: str, visible: ColumnElement[bool] | None = None
) -> TransferJob:
    return (await lock_jobs(session, [transfer_id], visible))[transfer_id]


def _state(job: TransferJob, allowed: tuple[TransferStatus, ...], action: str) -> None:
    if job.status not in allowed:
        raise ProblemError(
            409,
            "invalid_state",
            f"The transfer is {job.status}; {action} needs one that is "
            + " or ".join(str(s) for s in allowed)
            + ".",
            current_status=str(job.status),
        )


_WHY = {
    Refusal.VEHICLE_OUT_OF_SERVICE: "Vehicle {plate} is out of service.",
    Refusal.VEHICLE_DOES_NOT_FIT: "Vehicle {plate} cannot carry this party (passengers, luggage, "
    "child seats or wheelchair).",
    Refusal.VEHICLE_IN_MAINTENANCE: "Vehicle {plate} is in maintenance then.",
    Refusal.VEHICLE_INCIDENT: "Vehicle {plate} has an open incident then.",
    Refusal.VEHICLE_BUSY: "Vehicle {plate} is on another job at an overlapping time.",
    Refusal.DRIVER_INACTIVE: "Driver {name} is not active.",
    Refusal.LICENCE_EXPIRED: "Driver {name}'s licence has expired by the job's date.",
    Refusal.NO_LANGUAGE: "Driver {name} does not speak the language this job requires.",
    Refusal.DRIVER_OFF_SHIFT: "Driver {name} is not on shift for the whole job.",
    Refusal.DRIVER_INCIDENT: "Driver {name} is unavailable then.",
    Refusal.DRIVER_BUSY: "Driver {name} is on another job at an overlapping time.",
    Refusal.DRIVER_LIMIT: "Driver {name} would drive past the daily limit that day.",
}


async def _planner(session: AsyncSession, settings: Settings, *held: TransferJob) -> Planner:
    """The crew rules around the (locked) jobs; locks the vehicle, then the driver rows."""
    return await Planner.load(
        session,
        settings,
        min(j.busy_from for j in held),
        max(j.busy_until for j in held),
        {j.pickup_date for j in held},
    )


def _crew(planner: Planner, vehicle_id: int, driver_id: int) -> tuple[Vehicle, Driver]:
    vehicle, driver = planner.vehicle(vehicle_id), planner.driver(driver_id)
    if vehicle is None:
        raise NotFound("vehicle", vehicle_id)
    if driver is None:
        raise NotFound("driver", driver_id)
    return vehicle, driver


def _refuse(
    planner: Planner,
    job: TransferJob,
    vehicle: Vehicle | None,
    driver: Driver | None,
    ignore: tuple[str, ...] = (),
) -> None:
    """409 with the rule's code if the named vehicle or driver (None: not checked) may not
    take `job`."""
    code = planner.refusal(
        job, vehicle.id if vehicle else None, driver.id if driver else None, ignore=ignore
    )
    if code is not None:
        detail = _WHY[code].format(
            plate=vehicle.plate if vehicle else "", name=driver.name if driver else ""
        )
        raise ProblemError(409, code, detail)


def _not_past(job: TransferJob) -> None:
    if job.driver_on_site_at <= utcnow():
        raise ProblemError(
            409,
            "pickup_past",
            "The driver could no longer be on site in time: call the guest and re-time the job.",
        )


def _put_crew(
    session: AsyncSession,
    job: TransferJob,
    vehicle: Vehicle,
    driver: Driver,
    actor: str,
    action: str,
    **also: Any,
) -> None:
    """Give `job` the crew and write the change to its trail (`also` first, then the crews
    after and before)."""
    before = (job.vehicle_id, job.driver_id)
    job.vehicle_id, job.driver_id = vehicle.id, driver.id
    job.status = TransferStatus.ASSIGNED
    job.assigned_at = utcnow()
    job.uncovered_reason = None
    outbound.drop_flag(job, *COVERED_FLAGS)
    jobs.touch(job)
    session.add(job)
    audit.record(
        session,
        job.id,
        actor,
        action,
        **also,
        vehicle_id=vehicle.id,
        driver_id=driver.id,
        previous_vehicle_id=before[0],
        previous_driver_id=before[1],
    )


async def assign_crew(
    session: AsyncSession,
    settings: Settings,
    transfer_id: str,
    vehicle_id: int,
    driver_id: int,
    actor: str,
) -> None:
    """Give a job (requested, or assigned: a change of crew) the named vehicle and driver."""
    job = await lock_job(session, transfer_id)
    _state(job, CREW_CHANGEABLE, "assigning a crew")
    _not_past(job)
    planner = await _planner(session, settings, job)
    vehicle, driver = _crew(planner, vehicle_id, driver_id)
    before = (job.vehicle_id, job.driver_id)
    if before == (vehicle.id, driver.id):
        return  # already this crew: nothing to change or tell
    jobs.leave_ride(job)  # judged alone: its ride's turnaround exemption is not its own now
    _refuse(planner, job, vehicle, driver)
    _put_crew(session, job, vehicle, driver, actor, "assigned")
    if before == (None, None):
        add_event(session, transfer_assigned(job, Assignment(vehicle, driver)))
    else:
        add_event(session, outbound.reassigned(job, "dispatcher", vehicle, driver))


async def swap(
    session: AsyncSession,
    settings: Settings,
    transfer_id: str,
    *,
    with_transfer_id: str | None,
    vehicle_id: int | None,
    driver_id: int | None,
    actor: str,
) -> None:
    """Exchange two assigned jobs' crews, or replace this assigned job's driver or vehicle."""
    if with_transfer_id is not None:
        await _exchange(session, settings, transfer_id, with_transfer_id, actor)
        return
    job = await lock_job(session, transfer_id)
    _state(job, (TransferStatus.ASSIGNED,), "replacing the crew")
    _not_past(job)
    new_vehicle_id = vehicle_id or job.vehicle_id
    new_driver_id = driver_id or job.driver_id
    assert new_vehicle_id is not None and new_driver_id is not None  # an assigned job
    planner = await _planner(session, settings, job)
    vehicle, driver = _crew(planner, new_vehicle_id, new_driver_id)
    before = (job.vehicle_id, job.driver_id)
    if before == (vehicle.id, driver.id):
        return
    # A party of a shared ride leaves it: the member kept still carries the others of the ride
    # at that time, so it is checked too (a second driver in the same van, or the driver in two).
    shared = job.ride_id is not None
    jobs.leave_ride(job)
    _refuse(
        planner,
        job,
        vehicle if vehicle_id is not None or shared else None,
        driver if driver_id is not None or shared else None,
    )
    _put_crew(session, job, vehicle, driver, actor, "swapped")
    add_event(session, outbound.reassigned(job, "dispatcher", vehicle, driver))


async def _exchange(
    session: AsyncSession, settings: Settings, first_id: str, second_id: str, actor: str
) -> None:
    if first_id == second_id:
        raise ProblemError(422, "same_transfer", "A job cannot exchange its crew with itself.")
    locked = await lock_jobs(session, [first_id, second_id])
    first, second = locked[first_id], locked[second_id]
    for job in (first, second):
        _state(job, (TransferStatus.ASSIGNED,), "exchanging crews")
        _not_past(job)
    assert first.vehicle_id and first.driver_id and second.vehicle_id and second.driver_id
    planner = await _planner(session, settings, first, second)
    ignore = (first.id, second.id)
    plans = (
        (first, *_crew(planner, second.vehicle_id, second.driver_id), second.id),
        (second, *_crew(planner, first.vehicle_id, first.driver_id), first.id),
    )
    for job, vehicle, driver, _ in plans:
        jobs.leave_ride(job)  # a crew exchanged is a crew of its own (see swap)
        _refuse(planner, job, vehicle, driver, ignore)
    for job, vehicle, driver, other in plans:
        _put_crew(session, job, vehicle, driver, actor, "swapped", with_transfer_id=other)
        add_event(session, outbound.reassigned(job, "dispatcher", vehicle, driver))


async def unassign(
    session: AsyncSession, settings: Settings, transfer_id: str, reason: str | None, actor: str
) -> None:
    """Take the crew off an assigned job: back to `requested` (flag `uncovered`), the crew free
    for other jobs (the uncovered ones are retried)."""
    job = await lock_job(session, transfer_id)
    _state(job, (TransferStatus.ASSIGNED,), "unassigning")
    before = (job.vehicle_id, job.driver_id)
    previous = job.status
    jobs.release_crew(job)
    job.uncovered_reason = "unassigned"
    outbound.add_flag(job, "uncovered")
    jobs.touch(job)
    session.add(job)
    audit.record(
        session,
        job.id,
        actor,
        "unassigned",
        reason=reason,
        previous_vehicle_id=before[0],
        previous_driver_id=before[1],
    )
    add_event(session, outbound.status_changed(job, previous, job.updated_at))


async def cancel(
    session: AsyncSession, settings: Settings, transfer_id: str, reason: str, actor: str
) -> None:
    """Call a job off (until the guest is on board); its crew is free: uncovered jobs of that
    day are retried."""
    job = await lock_job(session, transfer_id)
    _state(job, jobs.CANCELLABLE, "cancelling")
    previous = job.status
    jobs.cancel(job, reason)
    jobs.touch(job)
    session.add(job)
    audit.record(session, job.id, actor, "cancelled", reason=reason, previous_status=str(previous))
    add_event(session, outbound.status_changed(job, previous, job.updated_at))
    if job.reservation_id is not None:
        add_event(
            session,
            announce.transfer_cancelled(job, reason, job.reservation_version, by_dispatch=True),
        )
    if previous != TransferStatus.REQUESTED:
        await session.flush()
        await coverage.retry_uncovered(session, settings, day=job.pickup_date)


async def trail(session: AsyncSession, transfer_id: str) -> list[TransferAudit]:
    exists = await session.get(TransferJob, transfer_id)
    if exists is None:
        raise NotFound("transfer", transfer_id)
    return await audit.trail(session, transfer_id)

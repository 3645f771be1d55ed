"""Flights (and trains) that move: a flight-status feed or dispatch reports a flight's new time
or its cancellation by flight number and scheduled local date (`POST /api/v1/flight-updates`).

Every job of that flight not yet under way (requested or assigned) is re-timed: the pickup
moves by as much as the flight did (an arrival's meeting time is the landing; a departure leaves
the property that much later or earlier), with its crew window. Its crew is kept if still valid
for the new window (`assignment.Planner.refusal`), else the invalid member is replaced
(`avoid_*`) while the valid one is kept where possible; the guest is told by
`transfer.rescheduled` with the crew now. A job nobody can take stays `requested`, flagged
`uncovered`. A cancelled flight calls its jobs off
(a later booking change with a new flight opens the pickup again, handlers.py).

Which jobs are "that flight's": same number (spaces and case ignored), and its scheduled local
date as booked (`flight_date`, which a flight update does not move: a feed keeps naming a flight
delayed past midnight by its scheduled date), else the local date of its time as the job knows
it (its `flight_time`, else its pickup time).
"""

from datetime import date, datetime, timedelta

from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlalchemy import and_, func
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit, coverage, jobs, outbound
from transfer_service.assignment import Planner
from transfer_service.config import Settings
from transfer_service.models import (
    Driver,
    FlightUpdate,
    FlightUpdateCreate,
    FlightUpdateOutcome,
    TransferJob,
    TransferStatus,
    Vehicle,
)


def shift(job: TransferJob, by: timedelta) -> None:
    """Move the job's times by `by`: the pickup, the driver's arrival, the ride, the crew window."""
    job.pickup_time += by
    job.driver_on_site_at += by
    job.ends_at += by
    job.busy_from += by
    job.busy_until += by
    if job.flight_time is not None:
        job.flight_time += by
    job.pickup_date = jobs.local_date(job.pickup_time, job.property_timezone)


async def recrew(
    session: AsyncSession, job: TransferJob, settings: Settings
) -> tuple[Vehicle | None, Driver | None]:
    """After a job moved: keep its crew if still valid, else reassign (keeping the valid
    member). Answers the crew it now has (None, None: uncovered, flagged)."""
    keep_vehicle, keep_driver = job.vehicle_id, job.driver_id
    planner = await Planner.load(
        session, settings, job.busy_from, job.busy_until, [job.pickup_date]
    )
    avoid_vehicles: frozenset[int] = frozenset()
    avoid_drivers: frozenset[int] = frozenset()
    if keep_vehicle is not None and keep_driver is not None:
        vehicle_ok = planner.refusal(job, keep_vehicle, None) is None
        driver_ok = planner.refusal(job, None, keep_driver) is None
        if vehicle_ok and driver_ok and job.driver_on_site_at > utcnow():
            return planner.vehicle(keep_vehicle), planner.driver(keep_driver)
        avoid_vehicles = frozenset() if vehicle_ok else frozenset({keep_vehicle})
        avoid_drivers = frozenset() if driver_ok else frozenset({keep_driver})
    jobs.release_crew(job)
    picked = planner.assign(
        job,
        keep=(keep_vehicle, keep_driver),
        avoid_vehicles=avoid_vehicles,
        avoid_drivers=avoid_drivers,
    )
    if picked is None:
        outbound.add_flag(job, "uncovered")
        return None, None
    outbound.drop_flag(job, "uncovered", "escalated")
    return picked.vehicle, picked.driver


async def retime(
    session: AsyncSession,
    settings: Settings,
    job: TransferJob,
    new_flight_time: datetime,
    reason: str,
    actor: str,
) -> bool:
    """Move `job` to its flight's new time, re-crew it, audit and tell the guest; False if the
    time did not change."""
    scheduled = job.flight_time or job.pickup_time
    by = new_flight_time - scheduled
    if not by:
        return False
    previous_pickup = job.pickup_time
    before = (job.vehicle_id, job.driver_id)
    if job.flight_time is None:
        job.flight_time = scheduled
    shift(job, by)
    jobs.touch(job)
    vehicle, driver = await recrew(session, job, settings)
    session.add(job)
    audit.record(
        session,
        job.id,
        actor,
        "rescheduled",
        reason=reason,
        previous_pickup_time=previous_pickup.isoformat(),
        pickup_time=job.pickup_time.isoformat(),
        previous_vehicle_id=before[0],
        previous_driver_id=before[1],
        vehicle_id=job.vehicle_id,
        driver_id=job.driver_id,
        uncovered_reason=job.uncovered_reason,
    )
    add_event(session, outbound.rescheduled(job, previous_pickup, reason, vehicle, driver))
    return True


async def flight_jobs(
    session: AsyncSession, flight_number: str, flight_date: date
) -> list[TransferJob]:
    """The movable jobs of the flight on its scheduled local date, locked, in id order."""
    found = await jobs.lock_with_rides(
        session,
        and_(
            func.upper(func.replace(TransferJob.flight_number, " ", "")) == flight_number,
            col(TransferJob.status).in_(jobs.MOVABLE),
        ),
    )  # with their ride mates: a moved job may leave its ride
    return [job for job in found if scheduled_date(job) == flight_date]


def scheduled_date(job: TransferJob) -> date:
    """The local date the flight was scheduled for: as booked (kept when a flight update moves
    it, even past midnight), else the date of its time as the job knows it."""
    if job.flight_date is not None:
        return job.flight_date
    return jobs.local_date(job.flight_time or job.pickup_time, job.property_timezone)


async def report(
    session: AsyncSession, settings: Settings, body: FlightUpdateCreate, actor: str
) -> FlightUpdateOutcome:
    affected = await flight_jobs(session, body.flight_number, body.date)
    moved: list[str] = []
    cancelled: list[str] = []
    uncovered: list[str] = []
    status = "cancelled"
    if body.new_time is None:
        for job in affected:
            previous = job.status
            jobs.cancel(job, "flight cancelled")
            jobs.touch(job)
            session.add(job)
            audit.record(session, job.id, actor, "cancelled", reason="flight cancelled")
            add_event(session, outbound.status_changed(job, previous, job.updated_at))
            cancelled.append(job.id)
        if cancelled:
            await session.flush()
            await coverage.retry_uncovered(session, settings, day=body.date)
    else:
        deltas = [body.new_time - (j.flight_time or j.pickup_time) for j in affected]
        later = max(deltas, default=timedelta(0))
        status = "delayed" if later > timedelta(0) else "early" if any(deltas) else "on_time"
        for job in affected:
            reason = (
                "flight_delayed"
                if body.new_time > (job.flight_time or job.pickup_time)
                else "flight_early"
            )
            if await retime(session, settings, job, body.new_time, reason, actor):
                moved.append(job.id)
                if job.status == TransferStatus.REQUESTED:
                    uncovered.append(job.id)
    update = FlightUpdate(
        flight_number=body.flight_number,
        flight_date=body.date,
        new_time=body.new_time,
        status=status,
        reported_by=actor,
        jobs_affected=len(affected),
    )
    session.add(update)
    await session.flush()
    assert update.id is not None
    return FlightUpdateOutcome(
        id=update.id,
        flight_number=update.flight_number,
        flight_date=update.flight_date,
        new_time=update.new_time,
        status=update.status,
        jobs_affected=update.jobs_affected,
        rescheduled=moved,
        cancelled=cancelled,
        uncovered=uncovered,
    )


def rescheduled_by_booking(
    session: AsyncSession,
    job: TransferJob,
    previous_pickup: datetime,
    vehicle: Vehicle | None,
    driver: Driver | None,
) -> None:
    """The booking's change moved its pickup (handlers.py): audited and published like a
    flight's move (the guest's notice is the pickup notice of `transfer.assigned`)."""
    jobs.touch(job)
    audit.record(
        session,
        job.id,
        audit.SYSTEM,
        "rescheduled",
        reason="booking_changed",
        previous_pickup_time=previous_pickup.isoformat(),
        pickup_time=job.pickup_time.isoformat(),
        vehicle_id=job.vehicle_id,
        driver_id=job.driver_id,
    )
    add_event(
        session, outbound.rescheduled(job, previous_pickup, "booking_changed", vehicle, driver)
    )

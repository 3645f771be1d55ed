"""Giving a job a vehicle and a driver that are free for its whole window.

A job holds its vehicle and driver from `driver_on_site_at` until `ends_at` plus the turnaround
(cleaning the vehicle for the next job, docs/domain.md); two jobs clash when those windows
overlap. The smallest vehicle that fits is chosen, so vans stay free for groups; among free
drivers, the one with the fewest jobs that day, to spread the work.

A job whose driver-on-site time has already passed when it is assigned (a booking confirmed
late, an event delivered late or replayed from the dead letters) gets no driver: no driver could
be there in time, and telling the guest one is coming would be false. It stays `requested`, the
state dispatch already works from (`GET /api/v1/transfers?status=requested`, oldest pickup
first), and a warning with reason `pickup_past` is logged; dispatch calls the guest.

Concurrency: on PostgreSQL the candidate vehicle rows, then the candidate driver rows, are locked
(SELECT ... FOR UPDATE, always in id order, so two assignments never deadlock) before their jobs
are read. A second assignment wanting the same rows waits for the first to commit, and its
clash check, a new statement under READ COMMITTED, then sees the first one's job. SQLite
renders no FOR UPDATE; its IMMEDIATE transactions already run one writer at a time.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.config import Settings
from transfer_service.models import (
    Driver,
    DriverStatus,
    TransferJob,
    TransferStatus,
    Vehicle,
    VehicleStatus,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Assignment:
    vehicle: Vehicle
    driver: Driver


def _clashing_jobs(job: TransferJob, turnaround: timedelta) -> list[ColumnElement[bool]]:
    """Conditions selecting the other live jobs whose window overlaps `job`'s.

    The turnaround is added on our side of each comparison: no interval arithmetic in SQL.
    """
    return [
        col(TransferJob.id) != job.id,
        col(TransferJob.status) != TransferStatus.CANCELLED,
        col(TransferJob.busy_from) < job.busy_until + turnaround,
        col(TransferJob.busy_until) > job.busy_from - turnaround,
    ]


async def _free_vehicle(
    session: AsyncSession, job: TransferJob, turnaround: timedelta, keep: int | None
) -> Vehicle | None:
    fitting = (
        await session.exec(
            select(Vehicle)
            .where(
                Vehicle.status == VehicleStatus.AVAILABLE,
                col(Vehicle.seats) >= job.passengers,
                col(Vehicle.luggage_capacity) >= job.luggage,
            )
            .order_by(col(Vehicle.id))
            .with_for_update()
        )
    ).all()
    if not fitting:
        return None
    taken = set(
        (
            await session.exec(
                select(TransferJob.vehicle_id).where(
                    col(TransferJob.vehicle_id).in_([v.id for v in fitting]),
                    *_clashing_jobs(job, turnaround),
                )
            )
        ).all()
    )
    free = [v for v in fitting if v.id not in taken]
    if (kept := next((v for v in free if v.id == keep), None)) is not None:
        return kept
    return min(free, key=lambda v: (v.seats, v.luggage_capacity, v.id or 0), default=None)


async def _free_driver(
    session: AsyncSession, job: TransferJob, turnaround: timedelta, keep: int | None
) -> Driver | None:
    active = (
        await session.exec(
            select(Driver)
            .where(Driver.status == DriverStatus.ACTIVE)
            .order_by(col(Driver.id))
            .with_for_update()
        )
    ).all()
    if not active:
        return None
    # Per active driver: a clashing job? and how many jobs that day? One statement.
    clash = and_(*_clashing_jobs(job, turnaround))
    load = (
        await session.exec(
            select(
                TransferJob.driver_id,
                func.max(case((clash, 1), else_=0)),
                func.sum(case((col(TransferJob.pickup_date) == job.pickup_date, 1), else_=0)),
            )
            .where(
                col(TransferJob.driver_id).in_([d.id for d in active]),
                col(TransferJob.status) != TransferStatus.CANCELLED,
            )
            .group_by(col(TransferJob.driver_id))
        )
    ).all()
    taken = {driver_id for driver_id, clashes, _ in load if clashes}
    day_load = {driver_id: day for driver_id, _, day in load}
    free = [d for d in active if d.id not in taken]
    if not free:
        return None
    if (kept := next((d for d in free if d.id == keep), None)) is not None:
        return kept
    return min(free, key=lambda d: (day_load.get(d.id, 0), d.id or 0))


async def assign(
    session: AsyncSession,
    job: TransferJob,
    settings: Settings,
    *,
    keep: tuple[int | None, int | None] = (None, None),
    avoid_vehicles: frozenset[int] = frozenset(),
    avoid_drivers: frozenset[int] = frozenset(),
) -> Assignment | None:
    """Assign a free vehicle and driver to `job`; None (job left `requested`) if none is free
    or the driver could no longer be on site in time. The caller writes the job.

    `keep`: the vehicle and driver a moved job had; each is kept if it still fits and is free
    for the new window (the job's own old window does not count), else the usual choice is
    made. Locks are taken in the same order either way. `avoid_*`: never chosen (the broken
    vehicle, the driver who became unavailable, the crew dispatch swapped away)."""
    turnaround = settings.turnaround
    if job.driver_on_site_at <= utcnow():
        log.warning(
            "transfer left unassigned for dispatch: its pickup is already past",
            extra={
                "transfer_id": job.id,
                "reservation_id": job.reservation_id,
                "missing": "time",
                "reason": "pickup_past",
                "pickup_time": job.pickup_time.isoformat(),
            },
        )
        return None
    vehicle = await _free_vehicle(session, job, turnaround, keep[0])
    driver = await _free_driver(session, job, turnaround, keep[1]) if vehicle is not None else None
    if vehicle is None or driver is None:
        log.warning(
            "transfer left unassigned for dispatch",
            extra={
                "transfer_id": job.id,
                "reservation_id": job.reservation_id,
                "missing": "vehicle" if vehicle is None else "driver",
                "passengers": job.passengers,
                "luggage": job.luggage,
                "pickup_time": job.pickup_time.isoformat(),
            },
        )
        return None
    now = utcnow()
    job.vehicle_id, job.driver_id = vehicle.id, driver.id
    job.status = TransferStatus.ASSIGNED
    job.assigned_at = job.updated_at = now
    return Assignment(vehicle, driver)

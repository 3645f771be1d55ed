"""Is this vehicle, this driver, valid for this job? The crew rules as single checks, for the
actions that name a crew (dispatch's assign and swap) and to confirm a crew a job keeps (a
flight moved, an incident elsewhere), plus `reassign`: the automatic choice, checked.

MERGE NOTE (issue 18, H3): assignment.py (H2) owns the crew rules for its automatic choice; it
had no single-crew checks when this was written. `vehicle_refusal` / `driver_refusal` state
the same rules (docs/domain.md, Transfers; the team brief's "Crew rules") for one named row. If
assignment.py gains equivalent per-row checks, these should call them; `reassign`'s checked
fallback search becomes dead code once `assignment.assign` honours shifts, incidents and
`avoid_*` itself (it then only confirms assign's pick).

Every check reads committed rows with fresh statements: the caller has locked the job and the
vehicle and driver rows it names (`lock_*`), so under READ COMMITTED a second dispatcher's
competing change is either committed (and seen) or waits for ours.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotel_common.errors import NotFound
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.assignment import Assignment, assign
from transfer_service.config import Settings
from transfer_service.models import (
    Driver,
    DriverShift,
    DriverStatus,
    Incident,
    TransferJob,
    TransferStatus,
    Vehicle,
    VehicleMaintenance,
    VehicleStatus,
)

# A job in one of these holds its vehicle and driver (docs/domain.md, Transfers).
LIVE = (
    TransferStatus.ASSIGNED,
    TransferStatus.EN_ROUTE,
    TransferStatus.DRIVER_ON_SITE,
    TransferStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class Refusal:
    """Why a vehicle or driver cannot take a job: a stable code and a sentence."""

    code: str
    detail: str


async def lock_vehicles(session: AsyncSession, ids: Iterable[int]) -> dict[int, Vehicle]:
    """The vehicles, locked in id order (the order assignment.py locks them in)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.exec(
        select(Vehicle)
        .where(col(Vehicle.id).in_(wanted))
        .order_by(col(Vehicle.id))
        .with_for_update()
    )
    return {v.id: v for v in rows.all() if v.id is not None}


async def lock_drivers(session: AsyncSession, ids: Iterable[int]) -> dict[int, Driver]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.exec(
        select(Driver).where(col(Driver.id).in_(wanted)).order_by(col(Driver.id)).with_for_update()
    )
    return {d.id: d for d in rows.all() if d.id is not None}


async def vehicle(session: AsyncSession, vehicle_id: int) -> Vehicle:
    found = (await lock_vehicles(session, [vehicle_id])).get(vehicle_id)
    if found is None:
        raise NotFound("vehicle", vehicle_id)
    return found


async def driver(session: AsyncSession, driver_id: int) -> Driver:
    found = (await lock_drivers(session, [driver_id])).get(driver_id)
    if found is None:
        raise NotFound("driver", driver_id)
    return found


def _others(
    job: TransferJob, turnaround: timedelta, ignore: Collection[str]
) -> list[ColumnElement[bool]]:
    """Live jobs other than `job` (and `ignore`) whose crew window is within the turnaround of
    `job`'s; a shared ride's jobs do not clash with each other."""
    conditions: list[ColumnElement[bool]] = [
        col(TransferJob.id).not_in([job.id, *ignore]),
        col(TransferJob.status).in_(LIVE),
        col(TransferJob.busy_from) < job.busy_until + turnaround,
        col(TransferJob.busy_until) > job.busy_from - turnaround,
    ]
    if job.ride_id is not None:
        conditions.append(
            or_(col(TransferJob.ride_id).is_(None), col(TransferJob.ride_id) != job.ride_id)
        )
    return conditions


def _incident_meets(job: TransferJob) -> list[ColumnElement[bool]]:
    return [
        col(Incident.status) == "open",
        col(Incident.starts_at) < job.busy_until,
        or_(col(Incident.ends_at).is_(None), col(Incident.ends_at) > job.busy_from),
    ]


def _local_days(job: TransferJob) -> set[date]:
    zone = ZoneInfo(job.property_timezone)
    return {job.busy_from.astimezone(zone).date(), job.busy_until.astimezone(zone).date()}


async def vehicle_refusal(
    session: AsyncSession,
    job: TransferJob,
    found: Vehicle,
    settings: Settings,
    ignore: Collection[str] = (),
) -> Refusal | None:
    """None if `found` may carry `job`; else why not. `ignore`: jobs whose crew is being
    exchanged with this one (a swap), not counted as clashes."""
    if found.status != VehicleStatus.AVAILABLE:
        return Refusal("vehicle_out_of_service", f"Vehicle {found.plate} is out of service.")
    if (
        found.seats < job.passengers
        or found.luggage_capacity < job.luggage
        or found.child_seats < job.child_seats
        or (job.wheelchair and not found.wheelchair_accessible)
    ):
        return Refusal(
            "vehicle_does_not_fit",
            f"Vehicle {found.plate} cannot carry this party (passengers, luggage, child seats "
            "or wheelchair).",
        )
    days = _local_days(job)
    maintenance = await session.exec(
        select(VehicleMaintenance.id).where(
            VehicleMaintenance.vehicle_id == found.id,
            col(VehicleMaintenance.starts_on) <= max(days),
            col(VehicleMaintenance.ends_on) >= min(days),
        )
    )
    if maintenance.first() is not None:
        return Refusal("vehicle_in_maintenance", f"Vehicle {found.plate} is in maintenance then.")
    incident = await session.exec(
        select(Incident.id).where(Incident.vehicle_id == found.id, *_incident_meets(job))
    )
    if incident.first() is not None:
        return Refusal("vehicle_incident", f"Vehicle {found.plate} has an open incident then.")
    clash = await session.exec(
        select(TransferJob.id).where(
            TransferJob.vehicle_id == found.id, *_others(job, settings.turnaround, ignore)
        )
    )
    if (other := clash.first()) is not None:
        return Refusal(
            "vehicle_busy", f"Vehicle {found.plate} is on job {other} at an overlapping time."
        )
    return None


def _on_standing_shift(found: Driver, job: TransferJob) -> bool:
    if found.shift_start is None or found.shift_end is None:
        return False
    zone = ZoneInfo(job.property_timezone)
    first = job.busy_from.astimezone(zone).date()
    for day in (first - timedelta(days=1), first):
        starts = _at(day, found.shift_start, zone)
        ends = _at(day, found.shift_end, zone)
        if ends <= starts:
            ends = _at(day + timedelta(days=1), found.shift_end, zone)
        if starts <= job.busy_from and job.busy_until <= ends:
            return True
    return False


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


async def driver_refusal(
    session: AsyncSession,
    job: TransferJob,
    found: Driver,
    settings: Settings,
    ignore: Collection[str] = (),
) -> Refusal | None:
    """None if `found` may drive `job`; else why not."""
    if found.status != DriverStatus.ACTIVE:
        return Refusal("driver_inactive", f"Driver {found.name} is not active.")
    if found.licence_expires_on is not None and found.licence_expires_on < job.pickup_date:
        return Refusal(
            "licence_expired",
            f"Driver {found.name}'s licence expires on {found.licence_expires_on}.",
        )
    if job.language and job.language not in found.languages:
        return Refusal("no_language", f"Driver {found.name} does not speak {job.language}.")
    if not _on_standing_shift(found, job):
        dated = await session.exec(
            select(DriverShift.id).where(
                DriverShift.driver_id == found.id,
                col(DriverShift.starts_at) <= job.busy_from,
                col(DriverShift.ends_at) >= job.busy_until,
            )
        )
        if dated.first() is None:
            return Refusal(
                "driver_off_shift", f"Driver {found.name} is not on shift for the whole job."
            )
    incident = await session.exec(
        select(Incident.id).where(Incident.driver_id == found.id, *_incident_meets(job))
    )
    if incident.first() is not None:
        return Refusal("driver_incident", f"Driver {found.name} is unavailable then.")
    clash = await session.exec(
        select(TransferJob.id).where(
            TransferJob.driver_id == found.id, *_others(job, settings.turnaround, ignore)
        )
    )
    if (other := clash.first()) is not None:
        return Refusal(
            "driver_busy", f"Driver {found.name} is on job {other} at an overlapping time."
        )
    driven = await session.exec(
        select(func.coalesce(func.sum(TransferJob.driven_minutes), 0)).where(
            TransferJob.driver_id == found.id,
            col(TransferJob.id).not_in([job.id, *ignore]),
            col(TransferJob.status).in_((*LIVE, TransferStatus.COMPLETED)),
            TransferJob.pickup_date == job.pickup_date,
        )
    )
    if int(driven.one()) + job.driven_minutes > found.daily_driving_limit_minutes:
        return Refusal(
            "driver_limit", f"Driver {found.name} would drive past the daily limit that day."
        )
    return None


async def reassign(
    session: AsyncSession,
    job: TransferJob,
    settings: Settings,
    *,
    keep: tuple[int | None, int | None] = (None, None),
    avoid_vehicles: frozenset[int] = frozenset(),
    avoid_drivers: frozenset[int] = frozenset(),
) -> Assignment | None:
    """`assignment.assign`, its pick confirmed by the checks above; if the pick fails them
    (see the merge note) the first vehicle and driver that pass, kept ones first. Sets the
    crew and status as assign does; None: the job stays `requested`, `uncovered_reason` set."""
    if job.driver_on_site_at <= utcnow():
        job.uncovered_reason = "pickup_past"
        return None
    picked = await assign(
        session,
        job,
        settings,
        keep=keep,
        avoid_vehicles=avoid_vehicles,
        avoid_drivers=avoid_drivers,
    )
    if picked is not None:
        ok = (
            picked.vehicle.id not in avoid_vehicles
            and picked.driver.id not in avoid_drivers
            and await vehicle_refusal(session, job, picked.vehicle, settings) is None
            and await driver_refusal(session, job, picked.driver, settings) is None
        )
        if ok:
            job.uncovered_reason = None
            return picked
    found_vehicle = await _first_valid_vehicle(session, job, settings, keep[0], avoid_vehicles)
    found_driver = (
        await _first_valid_driver(session, job, settings, keep[1], avoid_drivers)
        if found_vehicle is not None
        else None
    )
    if found_vehicle is None or found_driver is None:
        job.vehicle_id = job.driver_id = None
        job.assigned_at = None
        job.status = TransferStatus.REQUESTED
        job.uncovered_reason = "no_vehicle_free" if found_vehicle is None else "no_driver_free"
        return None
    now = utcnow()
    job.vehicle_id, job.driver_id = found_vehicle.id, found_driver.id
    job.status = TransferStatus.ASSIGNED
    job.assigned_at = job.updated_at = now
    job.uncovered_reason = None
    return Assignment(found_vehicle, found_driver)


async def _first_valid_vehicle(
    session: AsyncSession,
    job: TransferJob,
    settings: Settings,
    keep: int | None,
    avoid: frozenset[int],
) -> Vehicle | None:
    rows = await session.exec(
        select(Vehicle)
        .where(Vehicle.status == VehicleStatus.AVAILABLE, col(Vehicle.id).not_in(avoid))
        .order_by(col(Vehicle.id))
        .with_for_update()
    )
    candidates = sorted(
        rows.all(), key=lambda v: (v.id != keep, v.seats, v.luggage_capacity, v.id or 0)
    )
    for candidate in candidates:
        if await vehicle_refusal(session, job, candidate, settings) is None:
            return candidate
    return None


async def _first_valid_driver(
    session: AsyncSession,
    job: TransferJob,
    settings: Settings,
    keep: int | None,
    avoid: frozenset[int],
) -> Driver | None:
    rows = await session.exec(
        select(Driver)
        .where(Driver.status == DriverStatus.ACTIVE, col(Driver.id).not_in(avoid))
        .order_by(col(Driver.id))
        .with_for_update()
    )
    for candidate in sorted(rows.all(), key=lambda d: (d.id != keep, d.id or 0)):
        if await driver_refusal(session, job, candidate, settings) is None:
            return candidate
    return None

"""The fleet: vehicles and drivers, their upkeep (maintenance periods) and working time (the
standing shift, dated shifts, limits). Nothing here commits: the route owns the transaction.

What a change does to jobs already assigned (docs/domain.md, Fleet):
- a PATCH that would leave a live assigned job with a vehicle that no longer carries it (out of
  service, fewer seats, bags, child seats, no wheelchair access) or a driver who may no longer
  drive it (inactive, licence expired by its day, a standing shift no longer covering its crew
  window, a daily limit below that day's driving) is refused (409 vehicle_has_jobs /
  driver_has_jobs, naming the jobs): dispatch moves them first;
- a maintenance period is recorded even on days the vehicle has jobs: they are given another
  vehicle at once, or escalated (flagged) when none can take them, as a breakdown does; the
  answer names both (`reassigned`, `jobs_to_move`);
- every change that may free capacity is followed by `coverage.retry_uncovered` (the route).
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import insert_unique
from sqlalchemy import ColumnElement, and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import coverage, incidents
from transfer_service.assignment import Planner, Refusal, lock_crew
from transfer_service.config import Settings
from transfer_service.dispatch import lock_jobs
from transfer_service.models import (
    Driver,
    DriverCreate,
    DriverPublic,
    DriverShift,
    DriverStatus,
    DriverUpdate,
    MaintenanceCreate,
    MaintenancePublic,
    ShiftCreate,
    ShiftPublic,
    TransferJob,
    TransferStatus,
    Vehicle,
    VehicleClass,
    VehicleCreate,
    VehicleMaintenance,
    VehiclePublic,
    VehicleStatus,
    VehicleUpdate,
)

# Jobs holding their crew: assigned and not yet over.
LIVE = (
    TransferStatus.ASSIGNED,
    TransferStatus.EN_ROUTE,
    TransferStatus.DRIVER_ON_SITE,
    TransferStatus.IN_PROGRESS,
)
MAX_MAINTENANCE_DAYS = 366
MAX_SHIFT = timedelta(hours=24)
# How far ahead a dated shift may start: ten years. Further is a typo, and at the end of the
# calendar the rest around it would not fit in a datetime (a 500 before).
MAX_AHEAD = timedelta(days=3660)


def today() -> date:
    """Today's date in UTC: a licence or a period is judged by it (docs/DECISIONS.md)."""
    return utcnow().date()


async def changed(session: AsyncSession, settings: Settings) -> None:
    """After a fleet, shift or maintenance change: flushed, then jobs waiting for a crew are
    tried again in the same transaction (coverage.retry_uncovered)."""
    await session.flush()
    await coverage.retry_uncovered(session, settings)


async def _live_jobs(session: AsyncSession, *where: ColumnElement[bool]) -> list[TransferJob]:
    query = (
        select(TransferJob)
        .where(col(TransferJob.status).in_(LIVE), col(TransferJob.busy_until) > utcnow(), *where)
        .order_by(col(TransferJob.pickup_time), col(TransferJob.id))
    )
    return list((await session.exec(query)).all())


# --- vehicles ---------------------------------------------------------------------------------


async def list_vehicles(
    session: AsyncSession,
    paging: Paging,
    status: VehicleStatus | None,
    vehicle_class: VehicleClass | None,
) -> Page[VehiclePublic]:
    query = select(Vehicle)
    if status is not None:
        query = query.where(Vehicle.status == status)
    if vehicle_class is not None:
        query = query.where(Vehicle.vehicle_class == vehicle_class)
    page = await keyset_page(session, query, paging, col(Vehicle.id))
    return page.map(VehiclePublic.model_validate)


async def register_vehicle(session: AsyncSession, data: VehicleCreate) -> VehiclePublic:
    taken = f"A vehicle with plate {data.plate} is registered."
    if (await session.exec(select(Vehicle.id).where(Vehicle.plate == data.plate))).first():
        raise ProblemError(409, "vehicle_plate_taken", taken)
    vehicle = await insert_unique(
        session, Vehicle.model_validate(data), "vehicle_plate_taken", taken
    )
    return VehiclePublic.model_validate(vehicle)


async def vehicle(session: AsyncSession, vehicle_id: int, *, lock: bool = False) -> Vehicle:
    if lock:  # changes to one vehicle queue here (PostgreSQL), the crew locked in one order
        vehicles, _ = await lock_crew(session)
        found = next((v for v in vehicles if v.id == vehicle_id), None)
    else:
        found = (await session.exec(select(Vehicle).where(Vehicle.id == vehicle_id))).first()
    if found is None:
        raise ProblemError(404, "vehicle_not_found", f"There is no vehicle {vehicle_id}.")
    return found


def _carries(vehicle: Vehicle, jobs: Sequence[TransferJob]) -> bool:
    """Whether `vehicle` carries the jobs of one ride together."""
    return (
        vehicle.status == VehicleStatus.AVAILABLE
        and sum(j.passengers for j in jobs) <= vehicle.seats
        and sum(j.luggage for j in jobs) <= vehicle.luggage_capacity
        and sum(j.child_seats for j in jobs) <= vehicle.child_seats
        and (vehicle.wheelchair_accessible or not any(j.wheelchair for j in jobs))
    )


async def update_vehicle(
    session: AsyncSession, vehicle_id: int, data: VehicleUpdate
) -> VehiclePublic:
    found = await vehicle(session, vehicle_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("next_service_date", ...) is None:
        changes.pop("next_service_date")  # explicit null clears: set below
        found.next_service_date = None
    changes = {name: value for name, value in changes.items() if value is not None}
    odometer = changes.get("odometer_km")
    if odometer is not None and odometer < found.odometer_km:
        raise ProblemError(
            422,
            "odometer_backwards",
            f"The odometer reads {found.odometer_km} km; a reading never goes down.",
            odometer_km=found.odometer_km,
        )
    for name, value in changes.items():
        setattr(found, name, value)
    rides: dict[str, list[TransferJob]] = {}
    for job in await _live_jobs(session, col(TransferJob.vehicle_id) == vehicle_id):
        rides.setdefault(job.ride_id or job.id, []).append(job)
    stranded = [j.id for ride in rides.values() if not _carries(found, ride) for j in ride]
    if stranded:
        raise ProblemError(
            409,
            "vehicle_has_jobs",
            "The vehicle would no longer carry jobs it is assigned to: move them first "
            "(dispatch, or an incident that reassigns them).",
            jobs=stranded,
        )
    session.add(found)
    await session.flush()
    return VehiclePublic.model_validate(found)


# --- maintenance ------------------------------------------------------------------------------


def _maintenance(period: VehicleMaintenance, jobs: Sequence[str] = ()) -> MaintenancePublic:
    return MaintenancePublic.model_validate(period, update={"jobs_to_move": list(jobs)})


async def add_maintenance(
    session: AsyncSession,
    vehicle_id: int,
    data: MaintenanceCreate,
    actor: str,
    settings: Settings,
) -> MaintenancePublic:
    """Record the period; the vehicle's jobs not yet under way with the guest on board whose
    crew window meets one of its days are given another vehicle at once (the driver kept where
    still valid, the guest told: `transfer.reassigned`, reason `vehicle_maintenance`) or, when
    nothing can take them, escalated (requested, flagged uncovered and escalated), as a
    breakdown does. The answer names both: `reassigned`, and `jobs_to_move` for dispatch.

    Locks as an incident does: the jobs hit, then the crew, then the period is written and the
    jobs looked for again (one assigned meanwhile has committed: we waited for its crew)."""
    if data.ends_on < data.starts_on:
        raise ProblemError(
            422, "maintenance_dates_reversed", "ends_on is before starts_on (both inclusive)."
        )
    if data.ends_on < today():
        raise ProblemError(422, "maintenance_in_past", "The period is over already.")
    if (data.ends_on - data.starts_on).days + 1 > MAX_MAINTENANCE_DAYS:
        raise ProblemError(
            422,
            "maintenance_too_long",
            f"A period is at most {MAX_MAINTENANCE_DAYS} days; take the vehicle out of "
            "service (status) instead.",
        )
    locked = await lock_jobs(session, await _in_workshop(session, vehicle_id, data))
    await vehicle(session, vehicle_id, lock=True)
    overlapping = select(VehicleMaintenance).where(
        VehicleMaintenance.vehicle_id == vehicle_id,
        col(VehicleMaintenance.starts_on) <= data.ends_on,
        col(VehicleMaintenance.ends_on) >= data.starts_on,
        col(VehicleMaintenance.ends_on) >= col(VehicleMaintenance.starts_on),
    )
    other = (await session.exec(overlapping)).first()
    if other is not None:
        raise ProblemError(
            409,
            "maintenance_overlaps",
            f"The vehicle is in the workshop from {other.starts_on} to {other.ends_on} "
            "already: change that period instead.",
            maintenance_id=other.id,
        )
    period = VehicleMaintenance(
        vehicle_id=vehicle_id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reason=data.reason,
        created_by=actor,
    )
    session.add(period)
    await session.flush()
    missed = [i for i in await _in_workshop(session, vehicle_id, data) if i not in locked]
    if missed:
        locked |= await lock_jobs(session, missed)
    reassigned, escalated = await incidents.cover(
        session,
        settings,
        locked,
        actor,
        reason="vehicle_maintenance",
        avoid_vehicles=frozenset({vehicle_id}),
        maintenance_id=period.id,
    )
    # What stays for dispatch: escalated, and a ride under way (the guest on board) on its day.
    left = set(escalated) | {j.id for j in locked.values() if j.vehicle_id == vehicle_id}
    ordered = sorted(locked.values(), key=lambda j: (j.pickup_time, j.id))
    return MaintenancePublic.model_validate(
        period,
        update={
            "jobs_to_move": [j.id for j in ordered if j.id in left],
            "reassigned": [j.id for j in ordered if j.id in reassigned],
        },
    )


async def _in_workshop(
    session: AsyncSession, vehicle_id: int, data: MaintenanceCreate
) -> list[str]:
    """The vehicle's live jobs whose crew window meets a day of the period, local to the job
    (the rule assignment.py keeps the vehicle off by)."""
    # A broad UTC bound (a day either side: any zone's local day; the calendar's ends kept),
    # then the job's own dates.
    day = timedelta(days=1)
    first = datetime.combine(max(data.starts_on, date.min + day) - day, time(), UTC)
    last = datetime.combine(min(data.ends_on, date.max - 2 * day) + 2 * day, time(), UTC)
    candidates = await _live_jobs(
        session,
        col(TransferJob.vehicle_id) == vehicle_id,
        col(TransferJob.busy_until) > first,
        col(TransferJob.busy_from) < last,
    )
    hit = []
    for job in candidates:
        zone = ZoneInfo(job.property_timezone)
        begins, ends = job.busy_from.astimezone(zone).date(), job.busy_until.astimezone(zone).date()
        if begins <= data.ends_on and ends >= data.starts_on:
            hit.append(job.id)
    return hit


async def list_maintenance(
    session: AsyncSession, vehicle_id: int, paging: Paging, current: bool
) -> Page[MaintenancePublic]:
    await vehicle(session, vehicle_id)
    query = select(VehicleMaintenance).where(VehicleMaintenance.vehicle_id == vehicle_id)
    if current:
        query = query.where(
            col(VehicleMaintenance.ends_on) >= today(),
            col(VehicleMaintenance.ends_on) >= col(VehicleMaintenance.starts_on),
        )
    page = await keyset_page(session, query, paging, col(VehicleMaintenance.id))
    return page.map(_maintenance)


async def end_maintenance(
    session: AsyncSession, vehicle_id: int, period_id: int, back_on: date | None, actor: str
) -> MaintenancePublic:
    """The vehicle is back from `back_on` (default today): the period's last day becomes the
    day before, or the period is called off (ends_on = starts_on - 1) when it had not begun by
    then. A period already ended, or over by then, answers unchanged."""
    await vehicle(session, vehicle_id, lock=True)
    period = await session.get(VehicleMaintenance, period_id)
    if period is None or period.vehicle_id != vehicle_id:
        raise ProblemError(
            404, "maintenance_not_found", f"Vehicle {vehicle_id} has no period {period_id}."
        )
    back_on = back_on or today()
    # The later of the two first, then the day before: back_on may be the calendar's first day.
    last_day = max(back_on, period.starts_on) - timedelta(days=1)
    if period.ended_at is not None or last_day >= period.ends_on:
        return _maintenance(period)
    period.ends_on = last_day
    period.ended_at = utcnow()
    period.ended_by = actor
    session.add(period)
    await session.flush()
    return _maintenance(period)


# --- drivers ----------------------------------------------------------------------------------


async def list_drivers(
    session: AsyncSession, paging: Paging, status: DriverStatus | None
) -> Page[DriverPublic]:
    query = select(Driver)
    if status is not None:
        query = query.where(Driver.status == status)
    page = await keyset_page(session, query, paging, col(Driver.id))
    return page.map(DriverPublic.model_validate)


def _check_standing_shift(driver: Driver) -> None:
    if (driver.shift_start is None) != (driver.shift_end is None):
        raise ProblemError(
            422,
            "shift_incomplete",
            "A standing shift has a start and an end (both null: dated shifts only).",
        )
    if driver.shift_start is not None and driver.shift_start == driver.shift_end:
        raise ProblemError(
            422,
            "shift_empty",
            "The standing shift starts and ends at the same time; a shift past midnight ends "
            "before it starts, e.g. 22:00-06:00.",
        )


def _refuse_expired_licence(expires: date | None) -> None:
    """A licence already expired is never recorded, on registration or on a change (422
    `licence_expired`); one expiring today is still valid."""
    if expires is not None and expires < today():
        raise ProblemError(
            422,
            "licence_expired",
            f"The licence expired on {expires}; a driver is recorded with a valid one.",
        )


async def register_driver(session: AsyncSession, data: DriverCreate) -> DriverPublic:
    _refuse_expired_licence(data.licence_expires_on)
    driver = Driver.model_validate(data)
    _check_standing_shift(driver)
    taken = f"A driver with licence number {data.licence_number} is registered."
    licence = select(Driver.id).where(Driver.licence_number == data.licence_number)
    if (await session.exec(licence)).first():
        raise ProblemError(409, "driver_licence_taken", taken)
    driver = await insert_unique(session, driver, "driver_licence_taken", taken)
    return DriverPublic.model_validate(driver)


async def driver(session: AsyncSession, driver_id: int, *, lock: bool = False) -> Driver:
    if lock:  # a driver's changes and shifts queue here (PostgreSQL), the crew in one order
        _, drivers = await lock_crew(session)
        found = next((d for d in drivers if d.id == driver_id), None)
    else:
        found = (await session.exec(select(Driver).where(Driver.id == driver_id))).first()
    if found is None:
        raise ProblemError(404, "driver_not_found", f"There is no driver {driver_id}.")
    return found


async def update_driver(
    session: AsyncSession, driver_id: int, data: DriverUpdate, settings: Settings
) -> DriverPublic:
    _refuse_expired_licence(data.licence_expires_on)
    found = await driver(session, driver_id, lock=True)
    given = data.model_fields_set
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    for name in ("shift_start", "shift_end"):  # null removes the standing shift
        if name in given and getattr(data, name) is None:
            setattr(found, name, None)
    for name, value in changes.items():
        setattr(found, name, value)
    _check_standing_shift(found)
    jobs = await _live_jobs(session, col(TransferJob.driver_id) == driver_id)
    expires = found.licence_expires_on
    stranded = [
        j.id
        for j in jobs
        if found.status != DriverStatus.ACTIVE or (expires is not None and expires < j.pickup_date)
    ]
    hours = given & {"shift_start", "shift_end", "daily_driving_limit_minutes"}
    if hours and jobs and not stranded:
        stranded = await _off_their_hours(session, settings, found, jobs, hours)
    if stranded:
        raise ProblemError(
            409,
            "driver_has_jobs",
            "The driver could no longer drive jobs they are assigned to: move them first "
            "(dispatch, or an incident that reassigns them).",
            jobs=stranded,
        )
    session.add(found)
    await session.flush()
    return DriverPublic.model_validate(found)


async def _off_their_hours(
    session: AsyncSession,
    settings: Settings,
    found: Driver,
    jobs: Sequence[TransferJob],
    changed: set[str],
) -> list[str]:
    """The driver's live jobs the changed standing shift no longer covers, or whose day's
    driving the changed limit no longer allows, by the assignment's own rules
    (`Planner.refusal`, the driver as changed: the session flushes it before reading)."""
    await session.flush()
    planner = await Planner.load(
        session,
        settings,
        min(j.busy_from for j in jobs),
        max(j.busy_until for j in jobs),
        {j.pickup_date for j in jobs},
    )
    broken = set()
    if changed & {"shift_start", "shift_end"}:
        broken.add(Refusal.DRIVER_OFF_SHIFT)
    if "daily_driving_limit_minutes" in changed:
        broken.add(Refusal.DRIVER_LIMIT)
    return [j.id for j in jobs if planner.refusal(j, None, found.id) in broken]


# --- dated shifts -----------------------------------------------------------------------------


async def add_shift(session: AsyncSession, driver_id: int, data: ShiftCreate) -> ShiftPublic:
    """A dated shift (docs/domain.md, Fleet): not reversed, at most 24 hours, not over yet, and
    at least the driver's minimum rest away from each of their other dated shifts."""
    found = await driver(session, driver_id, lock=True)
    starts, ends = data.starts_at, data.ends_at
    if ends <= starts:
        raise ProblemError(422, "shift_reversed", "ends_at is not after starts_at.")
    if ends - starts > MAX_SHIFT:
        raise ProblemError(422, "shift_too_long", "A shift is at most 24 hours.")
    if ends <= utcnow():
        raise ProblemError(422, "shift_in_past", "The shift is over already.")
    if starts > utcnow() + MAX_AHEAD:
        raise ProblemError(
            422,
            "shift_too_far",
            f"A shift is planned at most {MAX_AHEAD.days} days ahead.",
            max_days_ahead=MAX_AHEAD.days,
        )
    rest = timedelta(minutes=found.min_rest_minutes)
    near = select(DriverShift).where(
        DriverShift.driver_id == driver_id,
        and_(col(DriverShift.starts_at) < ends + rest, col(DriverShift.ends_at) > starts - rest),
    )
    other = (await session.exec(near.order_by(col(DriverShift.starts_at)))).first()
    if other is not None:
        overlaps = other.starts_at < ends and other.ends_at > starts
        raise ProblemError(
            409,
            "shift_overlaps" if overlaps else "shift_rest_too_short",
            f"The driver has a shift from {other.starts_at.isoformat()} to "
            f"{other.ends_at.isoformat()}"
            + (
                ""
                if overlaps
                else f"; at least {found.min_rest_minutes} minutes of rest lie between two shifts"
            ),
            shift_id=other.id,
            min_rest_minutes=found.min_rest_minutes,
        )
    shift = DriverShift(driver_id=driver_id, starts_at=starts, ends_at=ends)
    session.add(shift)
    await session.flush()
    return ShiftPublic.model_validate(shift)


async def list_shifts(
    session: AsyncSession, driver_id: int, paging: Paging, include_past: bool
) -> Page[ShiftPublic]:
    await driver(session, driver_id)
    query = select(DriverShift).where(DriverShift.driver_id == driver_id)
    if not include_past:
        query = query.where(col(DriverShift.ends_at) > utcnow())
    page = await keyset_page(
        session, query, paging, col(DriverShift.starts_at), col(DriverShift.id)
    )
    return page.map(ShiftPublic.model_validate)


async def remove_shift(session: AsyncSession, driver_id: int, shift_id: int) -> ShiftPublic:
    """Call a dated shift off: refused while a live job of the driver meets it (409
    shift_has_jobs, the jobs listed), since it may be what puts them on shift for it."""
    await driver(session, driver_id, lock=True)
    shift = await session.get(DriverShift, shift_id)
    if shift is None or shift.driver_id != driver_id:
        raise ProblemError(404, "shift_not_found", f"Driver {driver_id} has no shift {shift_id}.")
    jobs = await _live_jobs(
        session,
        col(TransferJob.driver_id) == driver_id,
        col(TransferJob.busy_from) < shift.ends_at,
        col(TransferJob.busy_until) > shift.starts_at,
    )
    if jobs:
        raise ProblemError(
            409,
            "shift_has_jobs",
            "The driver has jobs during this shift: move them first.",
            jobs=[j.id for j in jobs],
        )
    removed = ShiftPublic.model_validate(shift)
    await session.delete(shift)
    await session.flush()
    return removed

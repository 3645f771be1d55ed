"""Giving a job a vehicle and a driver that may take it (docs/domain.md, Transfers: the crew
rules).

The crew window of a job is [busy_from, busy_until]: leaving base for the pickup point until back
at base (jobs.window). Two live jobs of one vehicle or one driver never come within the
turnaround of each other, except the jobs of one shared ride (same `ride_id`).

A vehicle may take a job when it is available, carries the party (seats, suitcases, child seats,
wheelchair), is not in maintenance on a local date of the window, and has no open incident
meeting the window. A driver may take it when active, their licence is valid on the job's local
date, they are on shift for the whole window (the standing shift of that local day or the one
before, past midnight, or a dated shift covering it; a driver with neither a standing shift nor
any dated shift recorded works any time), have no open incident meeting the window, stay within
their daily driving limit (that local day's driven minutes, finished jobs included, a shared
ride counted once), and speak the job's required `language` if it has one. The guest's own
language is a preference.

Choice: the smallest vehicle that fits (vans stay free for groups), the driver speaking the
guest's language with the fewest jobs that day. A guest who agreed to share first joins a ride
already assigned for the same flight, time, pickup point and destination, seats permitting.
When nothing fits, the job stays `requested` with an `uncovered_reason` (codes below, stable in
the API) and the `uncovered` flag; a job whose driver-on-site time has passed gets no driver at
all (`pickup_past`): telling the guest one is coming would be false.

One `Planner` holds what the rules need, read in a few statements: the fleet, the drivers, their
shifts, maintenance, open incidents and the live jobs around a period. `assign()` loads it for
one job; `coverage.retry_uncovered` and the benchmark load it once for a whole day and assign
job after job in memory, each assignment seen by the next.

Concurrency: on PostgreSQL the vehicle rows, then the driver rows, are locked (SELECT ... FOR NO
KEY UPDATE, in id order, so two assignments never deadlock) before their jobs are read. NO KEY
UPDATE, not UPDATE: it still excludes every other assigner, but not the foreign-key checks of a
transaction writing a job that names a vehicle or a driver (a cancellation updating its job
twice re-checks the keys, taking KEY SHARE on them); with FOR UPDATE such a writer and an
assigner could each hold what the other waits for. A second
assignment waits for the first to commit, and its reads, new statements under READ COMMITTED,
then see the first one's job. SQLite renders no FOR UPDATE; its IMMEDIATE transactions already
run one writer at a time.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotel_common.time import utcnow
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit
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

log = logging.getLogger(__name__)

# A job holding its crew: not yet finished, cancelled or given up.
ENDED = (TransferStatus.CANCELLED, TransferStatus.COMPLETED, TransferStatus.NO_SHOW)


class Reason:
    """Why a `requested` job has no crew (TransferJob.uncovered_reason), most basic first."""

    PICKUP_PAST = "pickup_past"
    NO_VEHICLE_FITS = "no_vehicle_fits"  # nothing in the fleet could ever carry the party
    NO_VEHICLE_FREE = "no_vehicle_free"
    NO_DRIVER_ON_SHIFT = "no_driver_on_shift"
    NO_LANGUAGE = "no_language"
    NO_DRIVER_FREE = "no_driver_free"
    DRIVER_LIMIT = "driver_limit"


class Refusal:
    """Why a named vehicle or driver may not take a job (`Planner.refusal`; dispatch answers
    them as 409 problems, stable in the API)."""

    VEHICLE_OUT_OF_SERVICE = "vehicle_out_of_service"
    VEHICLE_DOES_NOT_FIT = "vehicle_does_not_fit"
    VEHICLE_IN_MAINTENANCE = "vehicle_in_maintenance"
    VEHICLE_INCIDENT = "vehicle_incident"
    VEHICLE_BUSY = "vehicle_busy"
    DRIVER_INACTIVE = "driver_inactive"
    LICENCE_EXPIRED = "licence_expired"
    NO_LANGUAGE = "no_language"
    DRIVER_OFF_SHIFT = "driver_off_shift"
    DRIVER_INCIDENT = "driver_incident"
    DRIVER_BUSY = "driver_busy"
    DRIVER_LIMIT = "driver_limit"


UNCOVERED = "uncovered"
SHARED = "shared"


@dataclass(frozen=True)
class Assignment:
    vehicle: Vehicle
    driver: Driver
    # The jobs already on the ride this job joined (their ride_id was set): None if alone.
    shared_with: tuple[TransferJob, ...] = ()


def set_flag(job: TransferJob, name: str, on: bool) -> None:
    flags = [f for f in job.flags or [] if f != name]
    job.flags = [*flags, name] if on else flags


def speaks(languages: Iterable[str], wanted: str) -> bool:
    """A spoken language matches by its primary subtag: "zh" is spoken by a "zh-Hans" driver."""
    primary = wanted.split("-")[0].casefold()
    return any(tag.split("-")[0].casefold() == primary for tag in languages)


def _same_text(a: str | None, b: str | None) -> bool:
    return "".join((a or "").casefold().split()) == "".join((b or "").casefold().split())


@dataclass(slots=True)
class _Job:
    """The job's values the rules read, copied once per choice (ORM attributes are slow)."""

    id: str
    ride_id: str | None
    busy_from: datetime
    busy_until: datetime
    pickup_date: date
    passengers: int
    luggage: int
    child_seats: int
    wheelchair: bool
    language: str | None
    guest_language: str
    driven_minutes: int
    property_timezone: str

    @classmethod
    def of(cls, job: TransferJob) -> "_Job":
        return cls(
            job.id,
            job.ride_id,
            job.busy_from,
            job.busy_until,
            job.pickup_date,
            job.passengers,
            job.luggage,
            job.child_seats,
            job.wheelchair,
            job.language,
            job.guest_language,
            job.driven_minutes,
            job.property_timezone,
        )


@dataclass(slots=True)
class _Vehicle:
    id: int
    seats: int
    luggage_capacity: int
    child_seats: int
    wheelchair_accessible: bool
    available: bool
    row: Vehicle

    @classmethod
    def of(cls, v: Vehicle) -> "_Vehicle":
        return cls(
            v.id or 0,
            v.seats,
            v.luggage_capacity,
            v.child_seats,
            v.wheelchair_accessible,
            v.status == VehicleStatus.AVAILABLE,
            v,
        )


@dataclass(slots=True)
class _Driver:
    id: int
    active: bool
    licence_expires_on: date | None
    shift_start: time | None
    shift_end: time | None
    languages: list[str]
    daily_driving_limit_minutes: int
    row: Driver

    @classmethod
    def of(cls, d: Driver) -> "_Driver":
        return cls(
            d.id or 0,
            d.status == DriverStatus.ACTIVE,
            d.licence_expires_on,
            d.shift_start,
            d.shift_end,
            list(d.languages),
            d.daily_driving_limit_minutes,
            d,
        )


async def lock_crew(session: AsyncSession) -> tuple[list[Vehicle], list[Driver]]:
    """Every vehicle row, then every driver row, locked in id order (FOR NO KEY UPDATE; see the
    module): the one way anything locks crew rows. A change to one vehicle or driver (fleet.py)
    takes this too, never its own row alone first: holding one driver while waiting for the
    vehicles an assigner holds (who waits for that driver) would deadlock."""
    vehicles = list(
        (
            await session.exec(
                select(Vehicle).order_by(col(Vehicle.id)).with_for_update(key_share=True)
            )
        ).all()
    )
    drivers = list(
        (
            await session.exec(
                select(Driver).order_by(col(Driver.id)).with_for_update(key_share=True)
            )
        ).all()
    )
    return vehicles, drivers


@dataclass
class Planner:
    session: AsyncSession
    settings: Settings
    vehicles: list[_Vehicle]
    drivers: list[_Driver]
    maintenance: dict[int, list[tuple[date, date]]]
    vehicle_incidents: dict[int, list[tuple[datetime, datetime | None]]]
    driver_incidents: dict[int, list[tuple[datetime, datetime | None]]]
    shifts: dict[int, list[tuple[datetime, datetime]]]
    dated: set[int]  # drivers with any dated shift recorded
    joinable: set[str] = field(default_factory=set)  # shared-ride jobs locked for joining
    live: dict[str, TransferJob] = field(default_factory=dict)
    # Per live job, plain values read once (ORM attribute access is slow in the batch's loops):
    # busy_from, busy_until, ride_id, pickup_date, driven_minutes.
    windows: dict[str, tuple[datetime, datetime, str | None, date, int]] = field(
        default_factory=dict
    )
    # Standing shifts as UTC instants per (driver, local day, zone), computed once.
    standing: dict[tuple[int, date, str], tuple[datetime, datetime] | None] = field(
        default_factory=dict
    )
    by_vehicle: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_driver: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Minutes already driven per (driver, local day) by finished jobs (completed, no-show):
    # they count against the daily limit like the live ones.
    driven: dict[tuple[int, date], int] = field(default_factory=dict)

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        settings: Settings,
        start: datetime,
        end: datetime,
        dates: Iterable[date],
    ) -> "Planner":
        """What the rules need for jobs whose windows lie within [start, end] and whose local
        dates are `dates`; vehicle then driver rows locked (PostgreSQL), in id order."""
        vehicles, drivers = await lock_crew(session)
        margin = settings.turnaround + timedelta(days=1)
        days = set(dates)
        live = (
            await session.exec(
                select(TransferJob).where(
                    col(TransferJob.status).not_in(ENDED),
                    or_(
                        col(TransferJob.vehicle_id).is_not(None),
                        col(TransferJob.driver_id).is_not(None),
                    ),
                    or_(
                        and_(
                            col(TransferJob.busy_from) < end + margin,
                            col(TransferJob.busy_until) > start - margin,
                        ),
                        col(TransferJob.pickup_date).in_(days),
                    ),
                )
            )
        ).all()
        # The assigned rides a sharing guest may join: their rows are updated (the ride id) by
        # whoever joins, so they are locked here; SKIP LOCKED, as a row lock taken after the
        # crew's must never wait (a job held elsewhere is simply not joined this time).
        ride_ids = [j.id for j in live if j.share_ok and j.status == TransferStatus.ASSIGNED]
        joinable = set(
            (
                await session.exec(
                    select(TransferJob.id)
                    .where(col(TransferJob.id).in_(ride_ids))
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if ride_ids
            else ()
        )
        first, last = start.date() - timedelta(days=1), end.date() + timedelta(days=1)
        maintenance: dict[int, list[tuple[date, date]]] = defaultdict(list)
        for m in (
            await session.exec(
                select(VehicleMaintenance).where(
                    col(VehicleMaintenance.ends_on) >= first,
                    col(VehicleMaintenance.starts_on) <= last,
                )
            )
        ).all():
            maintenance[m.vehicle_id].append((m.starts_on, m.ends_on))
        vehicle_incidents: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
        driver_incidents: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
        for i in (
            await session.exec(
                select(Incident).where(
                    col(Incident.status) == "open",
                    col(Incident.starts_at) < end + margin,
                    or_(col(Incident.ends_at).is_(None), col(Incident.ends_at) > start - margin),
                )
            )
        ).all():
            if i.vehicle_id is not None:
                vehicle_incidents[i.vehicle_id].append((i.starts_at, i.ends_at))
            if i.driver_id is not None:
                driver_incidents[i.driver_id].append((i.starts_at, i.ends_at))
        shifts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for s in (
            await session.exec(
                select(DriverShift).where(
                    col(DriverShift.ends_at) > start - margin,
                    col(DriverShift.starts_at) < end + margin,
                )
            )
        ).all():
            shifts[s.driver_id].append((s.starts_at, s.ends_at))
        dated = set((await session.exec(select(DriverShift.driver_id).distinct())).all())
        done: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
        for finished in (
            await session.exec(
                select(TransferJob).where(
                    col(TransferJob.status).in_((TransferStatus.COMPLETED, TransferStatus.NO_SHOW)),
                    col(TransferJob.driver_id).is_not(None),
                    col(TransferJob.pickup_date).in_(days),
                )
            )
        ).all():
            rides = done[(finished.driver_id or 0, finished.pickup_date)]
            ride = finished.ride_id or finished.id
            rides[ride] = max(rides.get(ride, 0), finished.driven_minutes)
        planner = cls(
            session,
            settings,
            [_Vehicle.of(v) for v in vehicles],
            [_Driver.of(d) for d in drivers],
            maintenance,
            vehicle_incidents,
            driver_incidents,
            shifts,
            dated,
            joinable=joinable,
            driven={k: sum(rides.values()) for k, rides in done.items()},
        )
        for job in live:
            planner._hold(job)
        return planner

    # --- bookkeeping ----------------------------------------------------------------------

    def _hold(self, job: TransferJob) -> None:
        self.live[job.id] = job
        self.windows[job.id] = (
            job.busy_from,
            job.busy_until,
            job.ride_id,
            job.pickup_date,
            job.driven_minutes,
        )
        if job.vehicle_id is not None:
            self.by_vehicle[job.vehicle_id].add(job.id)
        if job.driver_id is not None:
            self.by_driver[job.driver_id].add(job.id)

    def _forget(self, job_id: str) -> None:
        job = self.live.pop(job_id, None)
        if job is None:
            return
        del self.windows[job_id]
        for index in (self.by_vehicle, self.by_driver):
            for ids in index.values():
                ids.discard(job_id)

    # --- the rules ------------------------------------------------------------------------

    def _clashes(self, ids: set[str], job: _Job) -> bool:
        t = self.settings.turnaround
        job_id, ride = job.id, job.ride_id
        start, end = job.busy_from - t, job.busy_until + t
        windows = self.windows
        for other_id in ids:
            if other_id == job_id:
                continue
            busy_from, busy_until, other_ride, _, _ = windows[other_id]
            if ride is not None and other_ride == ride:
                continue
            if busy_from < end and busy_until > start:
                return True
        return False

    @staticmethod
    def _meets(periods: list[tuple[datetime, datetime | None]], job: _Job) -> bool:
        return any(s < job.busy_until and (e is None or e > job.busy_from) for s, e in periods)

    @staticmethod
    def _carries(v: _Vehicle, passengers: int, luggage: int, seats: int, chair: bool) -> bool:
        return (
            v.seats >= passengers
            and v.luggage_capacity >= luggage
            and v.child_seats >= seats
            and (v.wheelchair_accessible or not chair)
        )

    def _fits(self, v: _Vehicle, job: _Job) -> bool:
        return self._carries(v, job.passengers, job.luggage, job.child_seats, job.wheelchair)

    def _local_dates(self, job: _Job) -> tuple[date, date]:
        zone = ZoneInfo(job.property_timezone)
        return job.busy_from.astimezone(zone).date(), job.busy_until.astimezone(zone).date()

    def _vehicle_refusal(
        self, v: _Vehicle, job: _Job, dates: tuple[date, date], ignore: frozenset[str] = frozenset()
    ) -> str | None:
        """Why `v` cannot take `job` at its window (its fit aside), or None."""
        if not v.available:
            return Refusal.VEHICLE_OUT_OF_SERVICE
        first, last = dates
        if any(s <= last and e >= first for s, e in self.maintenance.get(v.id, ())):
            return Refusal.VEHICLE_IN_MAINTENANCE
        if self._meets(self.vehicle_incidents.get(v.id, []), job):
            return Refusal.VEHICLE_INCIDENT
        if self._clashes(self.by_vehicle.get(v.id, set()) - ignore, job):
            return Refusal.VEHICLE_BUSY
        return None

    def _vehicle_free(self, v: _Vehicle, job: _Job, dates: tuple[date, date]) -> bool:
        return self._vehicle_refusal(v, job, dates) is None

    def _may_drive(self, d: _Driver, job: _Job) -> str | None:
        """Why `d` may not drive at all on the job's date (status, licence), or None."""
        if not d.active:
            return Refusal.DRIVER_INACTIVE
        if d.licence_expires_on is not None and d.licence_expires_on < job.pickup_date:
            return Refusal.LICENCE_EXPIRED
        return None

    def _on_shift(self, d: _Driver, job: _Job) -> bool:
        return self._may_drive(d, job) is None and self._shift_covers(d, job)

    def _shift_covers(self, d: _Driver, job: _Job) -> bool:
        start, end = job.busy_from, job.busy_until
        if any(s <= start and end <= e for s, e in self.shifts.get(d.id, ())):
            return True
        if d.shift_start is None or d.shift_end is None:
            return d.id not in self.dated  # no hours recorded at all: any time
        zone_name = job.property_timezone
        zone = ZoneInfo(zone_name)
        day = start.astimezone(zone).date()
        for shift_day in (day - timedelta(days=1), day):
            key = (d.id, shift_day, zone_name)
            if key not in self.standing:
                s = datetime.combine(shift_day, d.shift_start, zone)
                e = datetime.combine(shift_day, d.shift_end, zone)
                if e <= s:
                    e += timedelta(days=1)  # runs past midnight (equal: a day-long shift)
                self.standing[key] = (s, e)
            found = self.standing[key]
            if found is not None and found[0] <= start and end <= found[1]:
                return True
        return False

    def _day(
        self, driver_id: int, job: _Job, ignore: frozenset[str] = frozenset()
    ) -> tuple[int, int]:
        """The driver's driven minutes and live jobs on the job's local date, other jobs only
        (and not `ignore`), finished jobs' minutes included; the jobs of one shared ride drive
        once."""
        rides: dict[str, int] = {}
        count = 0
        day = job.pickup_date
        for other_id in self.by_driver.get(driver_id, ()):
            _, _, ride, other_day, driven = self.windows[other_id]
            if other_id == job.id or other_id in ignore or other_day != day:
                continue
            count += 1
            key = ride or other_id
            rides[key] = max(rides.get(key, 0), driven)
        return sum(rides.values()) + self.driven.get((driver_id, day), 0), count

    # --- one named crew (dispatch) ---------------------------------------------------------

    def vehicle(self, vehicle_id: int) -> Vehicle | None:
        """The vehicle row (locked with the others), or None if there is no such vehicle."""
        return next((v.row for v in self.vehicles if v.id == vehicle_id), None)

    def driver(self, driver_id: int) -> Driver | None:
        return next((d.row for d in self.drivers if d.id == driver_id), None)

    def refusal(
        self,
        job: TransferJob,
        vehicle_id: int | None,
        driver_id: int | None,
        *,
        ignore: Iterable[str] = (),
    ) -> str | None:
        """Why the named vehicle and driver (either may be None: not checked) may not take
        `job` by the rules above, as a `Refusal` code, or None. `ignore`: jobs not counted as
        clashes or driving that day (the other job of a crew exchange). Unknown ids: the
        caller looks them up first (`vehicle`, `driver`)."""
        j = _Job.of(job)
        skip = frozenset(ignore)
        if vehicle_id is not None:
            v = next(v for v in self.vehicles if v.id == vehicle_id)
            if not v.available:
                return Refusal.VEHICLE_OUT_OF_SERVICE
            if not self._fits(v, j):
                return Refusal.VEHICLE_DOES_NOT_FIT
            if (code := self._vehicle_refusal(v, j, self._local_dates(j), skip)) is not None:
                return code
        if driver_id is not None:
            d = next(d for d in self.drivers if d.id == driver_id)
            if (code := self._may_drive(d, j)) is not None:
                return code
            if j.language and not speaks(d.languages, j.language):
                return Refusal.NO_LANGUAGE
            if not self._shift_covers(d, j):
                return Refusal.DRIVER_OFF_SHIFT
            if self._meets(self.driver_incidents.get(d.id, []), j):
                return Refusal.DRIVER_INCIDENT
            if self._clashes(self.by_driver.get(d.id, set()) - skip, j):
                return Refusal.DRIVER_BUSY
            if self._day(d.id, j, skip)[0] + j.driven_minutes > d.daily_driving_limit_minutes:
                return Refusal.DRIVER_LIMIT
        return None

    # --- choosing ---------------------------------------------------------------------------

    def _ride_for(
        self, job: TransferJob, avoid_vehicles: frozenset[int], avoid_drivers: frozenset[int]
    ) -> tuple[_Vehicle, _Driver, list[TransferJob]] | None:
        """An assigned ride of guests on the same flight, at the same time, from the same
        pickup point to the same destination, who agreed to share, with room for this party."""
        if not job.share_ok or not job.flight_number:
            return None
        vehicles = {v.id: v for v in self.vehicles}
        drivers = {d.id: d for d in self.drivers}
        seen: set[str] = set()
        for other in sorted(self.live.values(), key=lambda j: j.id):
            if (
                other.id == job.id
                or other.id in seen
                or not other.share_ok
                or other.status != TransferStatus.ASSIGNED
                or other.kind != job.kind
                or other.pickup_time != job.pickup_time
                or not _same_text(other.flight_number, job.flight_number)
                or not _same_place(
                    other.pickup_place_id, job.pickup_place_id, other.pickup_place, job.pickup_place
                )
                or not _same_place(
                    other.destination_place_id,
                    job.destination_place_id,
                    other.destination,
                    job.destination,
                )
            ):
                continue
            ride = [other]
            if other.ride_id is not None:
                ride = [j for j in self.live.values() if j.ride_id == other.ride_id]
            seen.update(j.id for j in ride)
            if any(j.id not in self.joinable for j in ride):
                continue
            vehicle = vehicles.get(other.vehicle_id or 0)
            driver = drivers.get(other.driver_id or 0)
            if vehicle is None or driver is None:
                continue
            if vehicle.id in avoid_vehicles or driver.id in avoid_drivers:
                continue
            if not vehicle.available or not driver.active:
                continue
            if job.language and not speaks(driver.languages, job.language):
                continue
            party = [*ride, job]
            if not self._carries(
                vehicle,
                sum(j.passengers for j in party),
                sum(j.luggage for j in party),
                sum(j.child_seats for j in party),
                any(j.wheelchair for j in party),
            ):
                continue
            return vehicle, driver, ride
        return None

    def choose(
        self,
        job: TransferJob,
        *,
        keep: tuple[int | None, int | None] = (None, None),
        avoid_vehicles: frozenset[int] = frozenset(),
        avoid_drivers: frozenset[int] = frozenset(),
        now: datetime | None = None,
    ) -> Assignment | str:
        """The crew for `job`, or the reason there is none. Changes nothing."""
        if job.driver_on_site_at <= (now or utcnow()):
            return Reason.PICKUP_PAST
        if (ride := self._ride_for(job, avoid_vehicles, avoid_drivers)) is not None:
            vehicle, driver, others = ride
            return Assignment(vehicle.row, driver.row, tuple(others))
        j = _Job.of(job)  # the rules below read plain values
        fitting = [v for v in self.vehicles if self._fits(v, j)]
        if not fitting:
            return Reason.NO_VEHICLE_FITS
        dates = self._local_dates(j)
        free = [
            v for v in fitting if v.id not in avoid_vehicles and self._vehicle_free(v, j, dates)
        ]
        if not free:
            return Reason.NO_VEHICLE_FREE
        on_shift = [d for d in self.drivers if d.id not in avoid_drivers and self._on_shift(d, j)]
        if not on_shift:
            return Reason.NO_DRIVER_ON_SHIFT
        wanted = j.language
        speaking = [d for d in on_shift if not wanted or speaks(d.languages, wanted)]
        if not speaking:
            return Reason.NO_LANGUAGE
        idle = [
            d
            for d in speaking
            if d.id is not None
            and not self._meets(self.driver_incidents.get(d.id, []), j)
            and not self._clashes(self.by_driver.get(d.id, set()), j)
        ]
        if not idle:
            return Reason.NO_DRIVER_FREE
        days = {d.id or 0: self._day(d.id or 0, j) for d in idle}
        within = [
            d
            for d in idle
            if days[d.id or 0][0] + j.driven_minutes <= d.daily_driving_limit_minutes
        ]
        if not within:
            return Reason.DRIVER_LIMIT
        vehicle = next((v for v in free if v.id == keep[0]), None) or min(
            free,
            key=lambda v: (
                v.seats,
                v.luggage_capacity,
                v.child_seats,
                v.wheelchair_accessible,
                v.id or 0,
            ),
        )
        driver = next((d for d in within if d.id == keep[1]), None) or min(
            within,
            key=lambda d: (
                not speaks(d.languages, j.guest_language),
                days[d.id or 0][1],
                d.id or 0,
            ),
        )
        return Assignment(vehicle.row, driver.row)

    def assign(
        self,
        job: TransferJob,
        *,
        keep: tuple[int | None, int | None] = (None, None),
        avoid_vehicles: frozenset[int] = frozenset(),
        avoid_drivers: frozenset[int] = frozenset(),
        now: datetime | None = None,
    ) -> Assignment | None:
        """Give `job` its crew (status `assigned`) or its uncovered reason (left `requested`);
        the planner remembers it for the next job. The caller writes the job and tells."""
        choice = self.choose(
            job, keep=keep, avoid_vehicles=avoid_vehicles, avoid_drivers=avoid_drivers, now=now
        )
        now = now or utcnow()
        if isinstance(choice, str):
            job.uncovered_reason = choice
            set_flag(job, UNCOVERED, True)
            log.warning(
                "transfer left unassigned for dispatch",
                extra={
                    "transfer_id": job.id,
                    "reservation_id": job.reservation_id,
                    "reason": choice,
                    "passengers": job.passengers,
                    "luggage": job.luggage,
                    "pickup_time": job.pickup_time.isoformat(),
                },
            )
            return None
        if choice.shared_with:
            ride_id = next((j.ride_id for j in choice.shared_with if j.ride_id), None)
            ride_id = ride_id or str(uuid.uuid4())
            for other in choice.shared_with:
                if other.ride_id != ride_id:
                    other.ride_id = ride_id
                    if other.id in self.windows:
                        busy_from, busy_until, _, day, driven = self.windows[other.id]
                        self.windows[other.id] = (busy_from, busy_until, ride_id, day, driven)
                    set_flag(other, SHARED, True)
                    other.version += 1
                    other.updated_at = now
                    self.session.add(other)
                    audit.record(self.session, other.id, audit.SYSTEM, "shared", ride_id=ride_id)
            job.ride_id = ride_id
            set_flag(job, SHARED, True)
        else:
            job.ride_id = None
            set_flag(job, SHARED, False)
        job.vehicle_id, job.driver_id = choice.vehicle.id, choice.driver.id
        if job.share_ok:
            self.joinable.add(job.id)  # written by this transaction: others may join it
        job.status = TransferStatus.ASSIGNED
        job.uncovered_reason = None
        set_flag(job, UNCOVERED, False)
        job.assigned_at = job.updated_at = now
        self._forget(job.id)
        self._hold(job)
        return choice


def _same_place(a_id: int | None, b_id: int | None, a: str, b: str) -> bool:
    if a_id is not None and b_id is not None:
        return a_id == b_id
    return _same_text(a, b)


async def assign(
    session: AsyncSession,
    job: TransferJob,
    settings: Settings,
    *,
    keep: tuple[int | None, int | None] = (None, None),
    avoid_vehicles: frozenset[int] = frozenset(),
    avoid_drivers: frozenset[int] = frozenset(),
) -> Assignment | None:
    """Assign a vehicle and a driver that may take `job` (see the module); None leaves it
    `requested` with its `uncovered_reason`. The caller writes the job.

    `keep`: the vehicle and driver a moved job had; each is kept if it still may take the new
    window (the job's own old window does not count), else the usual choice is made. Locks are
    taken in the same order either way. `avoid_*`: never chosen (the broken vehicle, the driver
    who became unavailable, the crew dispatch swapped away)."""
    if job.driver_on_site_at <= utcnow():
        job.uncovered_reason = Reason.PICKUP_PAST
        set_flag(job, UNCOVERED, True)
        log.warning(
            "transfer left unassigned for dispatch: its pickup is already past",
            extra={
                "transfer_id": job.id,
                "reservation_id": job.reservation_id,
                "reason": Reason.PICKUP_PAST,
                "pickup_time": job.pickup_time.isoformat(),
            },
        )
        return None
    planner = await Planner.load(
        session, settings, job.busy_from, job.busy_until, [job.pickup_date]
    )
    return planner.assign(
        job, keep=keep, avoid_vehicles=avoid_vehicles, avoid_drivers=avoid_drivers
    )

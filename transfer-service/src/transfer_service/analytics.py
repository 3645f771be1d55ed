"""Quality of the transport desk over a period of local pickup dates (inclusive), for managers.

Definitions (docs/DECISIONS.md, issue 18):
- on-time rate: among jobs whose driver's arrival on site was recorded (`on_site_at`), the
  share with on_site_at <= pickup_time; None when none was recorded.
- average guest wait: on_board_at - pickup_time in minutes, floor 0 (a guest boarding before
  the agreed time waited nothing), over jobs with a recorded boarding; None when none.
- busy minutes of a vehicle or driver: the crew windows (busy_from .. busy_until: leaving base
  to back at base) of its jobs that held a crew (assigned onwards, completed and no-show
  included, cancelled excluded); a shared ride (one ride_id) counts once, from its earliest
  start to its latest end.
- utilisation: busy minutes / available minutes. A vehicle is available the whole day
  (1440 minutes a day of the period). A driver is available their standing shift's length each
  day of the period plus their dated shifts starting in the period (UTC days); a driver with
  neither has no utilisation (None).
- jobs per driver: the jobs that held a crew, with how many completed and how many no-show.

Every figure is aggregated by the database: three queries whatever the period's size.
"""

from datetime import UTC, date, datetime, time
from typing import Any

from hotel_common.errors import ProblemError
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import Driver, DriverShift, TransferJob, TransferStatus, Vehicle

MAX_DAYS = 366
CREWED = (
    TransferStatus.ASSIGNED,
    TransferStatus.EN_ROUTE,
    TransferStatus.DRIVER_ON_SITE,
    TransferStatus.IN_PROGRESS,
    TransferStatus.COMPLETED,
    TransferStatus.NO_SHOW,
)


class TransferOnTime(BaseModel):
    measured: int = Field(description="Jobs whose driver arrival on site was recorded")
    on_time: int = Field(description="Of those, the driver was on site by the pickup time")
    rate: float | None = Field(description="on_time / measured; None when nothing measured")


class TransferGuestWait(BaseModel):
    measured: int = Field(description="Jobs whose boarding was recorded")
    average_minutes: float | None = Field(description="on_board_at - pickup_time, floor 0")


class TransferVehicleUse(BaseModel):
    vehicle_id: int
    plate: str
    jobs: int
    busy_minutes: int
    driven_minutes: int
    available_minutes: int
    utilisation: float | None


class TransferDriverUse(BaseModel):
    driver_id: int
    name: str
    jobs: int
    completed: int
    no_show: int
    busy_minutes: int
    driven_minutes: int
    available_minutes: int
    utilisation: float | None


class TransferAnalytics(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    jobs: int = Field(description="Jobs with a pickup in the period, cancelled ones included")
    by_status: dict[str, int]
    on_time: TransferOnTime
    guest_wait: TransferGuestWait
    vehicles: list[TransferVehicleUse]
    drivers: list[TransferDriverUse]


def _minutes(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """later - earlier in minutes, as the database computes it."""
    if dialect == "sqlite":
        days: ColumnElement[float] = func.julianday(later) - func.julianday(earlier)
        return days * literal(1440.0)
    seconds: ColumnElement[Any] = func.extract("epoch", later - earlier)
    return seconds / literal(60.0)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def transfers(session: AsyncSession, start: date, end: date) -> TransferAnalytics:
    if end < start:
        raise ProblemError(422, "invalid_period", "`to` is before `from`.", field="to")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ProblemError(422, "period_too_long", f"At most {MAX_DAYS} days at once.", field="to")
    # Plain SQLAlchemy rows, several aggregates each: through the session's connection.
    conn = await session.connection()
    dialect = conn.dialect.name
    in_period = and_(col(TransferJob.pickup_date) >= start, col(TransferJob.pickup_date) <= end)
    job = TransferJob.__table__.c  # type: ignore[attr-defined]

    # 1. statuses, on-time and guest wait
    wait = _minutes(dialect, job.on_board_at, job.pickup_time)
    totals = (
        select(
            job.status,
            func.count(),
            func.count(job.on_site_at),
            func.sum(case((job.on_site_at <= job.pickup_time, 1), else_=0)),
            func.count(job.on_board_at),
            func.sum(case((job.on_board_at.is_(None), 0.0), (wait < 0, 0.0), else_=wait)),
        )
        .where(in_period)
        .group_by(job.status)
    )
    by_status: dict[str, int] = {}
    measured = on_time = boarded = 0
    waited = 0.0
    for status, n, sited, early, board_n, wait_sum in (await conn.execute(totals)).all():
        by_status[str(status)] = int(n)
        measured += int(sited or 0)
        on_time += int(early or 0)
        boarded += int(board_n or 0)
        waited += float(wait_sum or 0)

    # 2. per crew member: one row per ride (a shared ride once), then per vehicle / driver
    async def use(member: str) -> dict[int, tuple[int, int, int, int, int]]:
        key = job[member]
        ride = func.coalesce(job.ride_id, job.id)
        rides = (
            select(
                key.label("member"),
                func.count().label("jobs"),
                func.sum(case((job.status == TransferStatus.COMPLETED, 1), else_=0)).label(
                    "completed"
                ),
                func.sum(case((job.status == TransferStatus.NO_SHOW, 1), else_=0)).label("no_show"),
                _minutes(dialect, func.max(job.busy_until), func.min(job.busy_from)).label("busy"),
                func.max(job.driven_minutes).label("driven"),
            )
            .where(in_period, key.is_not(None), job.status.in_([s.value for s in CREWED]))
            .group_by(key, ride)
            .subquery()
        )
        per_member = select(
            rides.c.member,
            func.sum(rides.c.jobs),
            func.sum(rides.c.completed),
            func.sum(rides.c.no_show),
            func.sum(rides.c.busy),
            func.sum(rides.c.driven),
        ).group_by(rides.c.member)
        return {
            int(m): (int(j), int(c or 0), int(ns or 0), round(float(b or 0)), int(d or 0))
            for m, j, c, ns, b, d in (await conn.execute(per_member)).all()
        }

    by_vehicle = await use("vehicle_id")
    by_driver = await use("driver_id")

    day_minutes = days * 24 * 60
    vehicles = []
    fleet = select(col(Vehicle.id), col(Vehicle.plate)).order_by(col(Vehicle.id))
    for v_id, plate in (await conn.execute(fleet)).all():
        jobs_n, _, _, busy, driven = by_vehicle.get(v_id or 0, (0, 0, 0, 0, 0))
        vehicles.append(
            TransferVehicleUse(
                vehicle_id=v_id,
                plate=plate,
                jobs=jobs_n,
                busy_minutes=busy,
                driven_minutes=driven,
                available_minutes=day_minutes,
                utilisation=_ratio(busy, day_minutes),
            )
        )

    # 3. drivers with their dated shifts in the period (UTC days), summed by the database
    period_start = datetime.combine(start, time(), tzinfo=None)
    shift_minutes = (
        select(
            col(DriverShift.driver_id).label("driver_id"),
            func.sum(_minutes(dialect, col(DriverShift.ends_at), col(DriverShift.starts_at))).label(
                "dated"
            ),
        )
        .where(
            col(DriverShift.starts_at) >= _utc(period_start),
            # the last day's end inclusive: the day after `end` may lie past the calendar
            col(DriverShift.starts_at) <= _utc(datetime.combine(end, time.max)),
        )
        .group_by(col(DriverShift.driver_id))
        .subquery()
    )
    drivers_q = (
        select(
            col(Driver.id),
            col(Driver.name),
            col(Driver.shift_start),
            col(Driver.shift_end),
            shift_minutes.c.dated,
        )
        .outerjoin(shift_minutes, shift_minutes.c.driver_id == col(Driver.id))
        .order_by(col(Driver.id))
    )
    drivers = []
    for d_id, name, shift_start, shift_end, dated in (await conn.execute(drivers_q)).all():
        available = round(float(dated or 0)) + _standing_minutes(shift_start, shift_end) * days
        jobs_n, completed, no_show, busy, driven = by_driver.get(int(d_id), (0, 0, 0, 0, 0))
        drivers.append(
            TransferDriverUse(
                driver_id=d_id,
                name=name,
                jobs=jobs_n,
                completed=completed,
                no_show=no_show,
                busy_minutes=busy,
                driven_minutes=driven,
                available_minutes=available,
                utilisation=_ratio(busy, available),
            )
        )

    return TransferAnalytics(
        date_from=start,
        date_to=end,
        jobs=sum(by_status.values()),
        by_status=by_status,
        on_time=TransferOnTime(measured=measured, on_time=on_time, rate=_ratio(on_time, measured)),
        guest_wait=TransferGuestWait(
            measured=boarded, average_minutes=round(waited / boarded, 1) if boarded else None
        ),
        vehicles=vehicles,
        drivers=drivers,
    )


def _utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=UTC)


def _standing_minutes(shift_start: time | None, shift_end: time | None) -> int:
    """The standing daily shift's length (end before start: past midnight; equal: all day)."""
    if shift_start is None or shift_end is None:
        return 0
    start = shift_start.hour * 60 + shift_start.minute
    end = shift_end.hour * 60 + shift_end.minute
    return (end - start) % (24 * 60) or 24 * 60

"""The dispatch board: one local day's jobs in pickup order with their crew, status, flags and
why a job is uncovered, plus the day's counts. Two queries whatever the day's size: the jobs
joined to their vehicle and driver, and the counts grouped by status."""

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import (
    Driver,
    DriverSummary,
    TransferJob,
    TransferKind,
    TransferStatus,
    Vehicle,
    VehicleSummary,
)


class TransferBoardJob(BaseModel):
    id: str
    kind: TransferKind
    status: TransferStatus
    pickup_time: datetime = Field(description="Agreed meeting time, UTC")
    driver_on_site_at: datetime
    ends_at: datetime
    guest_name: str
    confirmation_number: str | None
    flight_number: str | None
    transport: str | None
    flight_time: datetime | None
    pickup_place: str
    destination: str
    passengers: int
    luggage: int
    child_seats: int
    wheelchair: bool
    language: str | None
    sign_name: str | None
    ride_id: str | None
    vehicle: VehicleSummary | None
    driver: DriverSummary | None
    flags: list[str]
    uncovered_reason: str | None = Field(description="Why a requested job has no crew yet")


class TransferBoardCounts(BaseModel):
    total: int = Field(description="Every job of the day, cancelled ones included")
    by_status: dict[str, int]
    uncovered: int = Field(description="Requested jobs without a crew")
    flagged: int = Field(description="Jobs with at least one flag")
    escalated: int


class TransferBoard(BaseModel):
    date: date
    jobs: list[TransferBoardJob]
    counts: TransferBoardCounts


async def board(session: AsyncSession, day: date, *, cancelled: bool = False) -> TransferBoard:
    query = (
        select(TransferJob, Vehicle, Driver)
        .outerjoin(Vehicle, col(TransferJob.vehicle_id) == col(Vehicle.id))
        .outerjoin(Driver, col(TransferJob.driver_id) == col(Driver.id))
        .where(TransferJob.pickup_date == day)
        .order_by(col(TransferJob.pickup_time), col(TransferJob.id))
    )
    if not cancelled:
        query = query.where(TransferJob.status != TransferStatus.CANCELLED)
    rows = (await session.exec(query)).all()
    jobs = [
        TransferBoardJob.model_validate(
            {
                **{
                    name: getattr(job, name)
                    for name in TransferBoardJob.model_fields
                    if hasattr(job, name)
                },
                "guest_name": job.guest_name,
                "vehicle": vehicle,
                "driver": driver,
                "flags": list(job.flags or []),
            },
            from_attributes=True,
        )
        for job, vehicle, driver in rows
    ]
    grouped = select(TransferJob.status, func.count()).where(TransferJob.pickup_date == day)
    by_status = {
        str(status): int(n)
        for status, n in (await session.exec(grouped.group_by(TransferJob.status))).all()
    }
    live = [j for j in jobs if j.status is not TransferStatus.CANCELLED]
    counts = TransferBoardCounts(
        total=sum(by_status.values()),
        by_status=by_status,
        uncovered=sum(
            1 for j in live if j.status is TransferStatus.REQUESTED and j.vehicle is None
        ),
        flagged=sum(1 for j in live if j.flags),
        escalated=sum(1 for j in live if "escalated" in j.flags),
    )
    return TransferBoard(date=day, jobs=jobs, counts=counts)

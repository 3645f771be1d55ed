"""Transfer jobs as dispatch and the front desk see them, with vehicle and driver."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound
from hotel_common.pagination import (
    Cursor,
    Limit,
    Page,
    after_time_id,
    split_page,
    time_id_cursor,
    time_id_value,
)
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from transfer_service.models import Driver, TransferJob, TransferPublic, TransferStatus, Vehicle

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])


def _with_crew() -> Select[TransferJob, Vehicle, Driver]:
    """Jobs with their vehicle and driver (None in the rows of unassigned jobs)."""
    return (
        select(TransferJob, Vehicle, Driver)
        .outerjoin(Vehicle, col(TransferJob.vehicle_id) == col(Vehicle.id))
        .outerjoin(Driver, col(TransferJob.driver_id) == col(Driver.id))
    )


@router.get("", response_model=Page[TransferPublic])
async def list_transfers(
    session: SessionDep,
    reservation_id: str | None = None,
    status: TransferStatus | None = None,
    pickup_date: Annotated[
        date | None,
        Query(alias="date", description="Pickup date in the property's time zone."),
    ] = None,
    driver_id: int | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TransferPublic]:
    """Jobs in pickup order; `status=requested` lists those waiting for dispatch."""
    query = _with_crew()
    if reservation_id is not None:
        query = query.where(TransferJob.reservation_id == reservation_id)
    if status is not None:
        query = query.where(TransferJob.status == status)
    if pickup_date is not None:
        query = query.where(TransferJob.pickup_date == pickup_date)
    if driver_id is not None:
        query = query.where(TransferJob.driver_id == driver_id)
    if (after := time_id_cursor(cursor)) is not None:
        query = query.where(
            after_time_id(
                col(TransferJob.pickup_time), col(TransferJob.id), after, descending=False
            )
        )
    query = query.order_by(col(TransferJob.pickup_time), col(TransferJob.id)).limit(limit + 1)
    rows, next_cursor = split_page(
        (await session.exec(query)).all(),
        limit,
        lambda row: time_id_value(row[0].pickup_time, row[0].id),
    )
    return Page[TransferPublic](
        items=[TransferPublic.of(job, vehicle, driver) for job, vehicle, driver in rows],
        next_cursor=next_cursor,
    )


@router.get("/{transfer_id}", response_model=TransferPublic)
async def get_transfer(session: SessionDep, transfer_id: str) -> TransferPublic:
    row = (await session.exec(_with_crew().where(TransferJob.id == transfer_id))).first()
    if row is None:
        raise NotFound("transfer", transfer_id)
    return TransferPublic.of(*row)

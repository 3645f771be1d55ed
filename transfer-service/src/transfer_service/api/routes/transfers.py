"""Transfer jobs as dispatch and the front desk see them, with vehicle and driver."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound
from hotel_common.pagination import Page, decode_cursor, encode_cursor
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from transfer_service.api.routes.paging import time_id_cursor, time_id_value
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
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
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
    if (after := time_id_cursor(decode_cursor(cursor))) is not None:
        at, ident = after
        query = query.where(
            or_(
                col(TransferJob.pickup_time) > at,
                and_(col(TransferJob.pickup_time) == at, col(TransferJob.id) > ident),
            )
        )
    query = query.order_by(col(TransferJob.pickup_time), col(TransferJob.id)).limit(limit + 1)
    rows = list((await session.exec(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else None
    return Page[TransferPublic](
        items=[TransferPublic.of(job, vehicle, driver) for job, vehicle, driver in rows],
        next_cursor=encode_cursor(time_id_value(last.pickup_time, last.id))
        if more and last
        else None,
    )


@router.get("/{transfer_id}", response_model=TransferPublic)
async def get_transfer(session: SessionDep, transfer_id: str) -> TransferPublic:
    row = (await session.exec(_with_crew().where(TransferJob.id == transfer_id))).first()
    if row is None:
        raise NotFound("transfer", transfer_id)
    return TransferPublic.of(*row)

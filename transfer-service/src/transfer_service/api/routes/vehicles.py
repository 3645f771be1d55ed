"""The fleet: list and register vehicles."""

from fastapi import APIRouter
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError
from hotel_common.pagination import Cursor, Limit, Page, int_cursor, split_page
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from transfer_service.models import (
    Vehicle,
    VehicleClass,
    VehicleCreate,
    VehiclePublic,
    VehicleStatus,
)

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"])


@router.get("", response_model=Page[VehiclePublic])
async def list_vehicles(
    session: SessionDep,
    status: VehicleStatus | None = None,
    vehicle_class: VehicleClass | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[VehiclePublic]:
    query = select(Vehicle).order_by(col(Vehicle.id)).limit(limit + 1)
    if status is not None:
        query = query.where(Vehicle.status == status)
    if vehicle_class is not None:
        query = query.where(Vehicle.vehicle_class == vehicle_class)
    if (after := int_cursor(cursor)) is not None:
        query = query.where(col(Vehicle.id) > after)
    rows, next_cursor = split_page((await session.exec(query)).all(), limit, lambda v: str(v.id))
    return Page[VehiclePublic](
        items=[VehiclePublic.model_validate(v) for v in rows], next_cursor=next_cursor
    )


@router.post("", status_code=201, response_model=VehiclePublic)
async def create_vehicle(session: SessionDep, body: VehicleCreate) -> VehiclePublic:
    if (await session.exec(select(Vehicle.id).where(Vehicle.plate == body.plate))).first():
        raise _plate_taken(body.plate)
    vehicle = Vehicle.model_validate(body)
    session.add(vehicle)
    try:
        await session.commit()
    except IntegrityError as exc:  # registered concurrently
        raise _plate_taken(body.plate) from exc
    return VehiclePublic.model_validate(vehicle)


def _plate_taken(plate: str) -> ProblemError:
    return ProblemError(409, "vehicle_plate_taken", f"A vehicle with plate {plate} is registered.")

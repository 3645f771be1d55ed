"""The fleet: dispatch and managers list vehicles; managers register them."""

from typing import Any

from fastapi import APIRouter, Depends
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Role, require

from transfer_service import fleet
from transfer_service.models import VehicleClass, VehicleCreate, VehiclePublic, VehicleStatus

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"])

EXAMPLE: dict[str, Any] = {
    "id": 3,
    "plate": "沪A·D1234",
    "description": "Toyota Alphard (black)",
    "vehicle_class": "van",
    "seats": 6,
    "luggage_capacity": 4,
    "status": "available",
    "created_at": "2030-05-01T02:00:00Z",
}
REFUSALS = {401: "unauthenticated: no signed-in caller"}


@router.get(
    "",
    response_model=Page[VehiclePublic],
    summary="List vehicles",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems(
            {400: "invalid_cursor", **REFUSALS, 403: "forbidden: dispatchers and managers only"}
        ),
    },
)
async def list_vehicles(
    session: SessionDep,
    paging: PagingDep,
    status: VehicleStatus | None = None,
    vehicle_class: VehicleClass | None = None,
) -> Page[VehiclePublic]:
    """Vehicles in registration order, for dispatchers and managers."""
    return await fleet.list_vehicles(session, paging, status, vehicle_class)


@router.post(
    "",
    status_code=201,
    response_model=VehiclePublic,
    summary="Register a vehicle",
    dependencies=[Depends(require(Role.MANAGER))],
    responses={
        201: example(EXAMPLE, "Registered"),
        **problems(
            {
                **REFUSALS,
                403: "forbidden: managers only",
                409: "vehicle_plate_taken: a vehicle with this plate exists",
            }
        ),
    },
)
async def create_vehicle(session: SessionDep, body: VehicleCreate) -> VehiclePublic:
    """Add a vehicle to the fleet dispatch assigns from (managers). The plate is stored upper
    case, so two spellings of one plate are one vehicle."""
    vehicle = await fleet.register_vehicle(session, body)
    await session.commit()
    return vehicle

"""The fleet: dispatch and managers list vehicles; managers register and change them;
dispatch and managers record the days a vehicle spends in the workshop."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Principal, Role, require

from transfer_service import fleet
from transfer_service.api.common import (
    MANAGERS,
    READERS,
    UNAUTHENTICATED,
    VALIDATION,
    FleetReader,
    Manager,
    SettingsDep,
    listing,
)
from transfer_service.audit import actor_of
from transfer_service.models import (
    MaintenanceCreate,
    MaintenanceEnd,
    MaintenancePublic,
    VehicleClass,
    VehicleCreate,
    VehiclePublic,
    VehicleStatus,
    VehicleUpdate,
)

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"])

DispatchOrManager = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.MANAGER))]

EXAMPLE: dict[str, Any] = {
    "id": 3,
    "plate": "沪A·D1234",
    "description": "Toyota Alphard (black)",
    "vehicle_class": "van",
    "seats": 6,
    "luggage_capacity": 4,
    "status": "available",
    "child_seats": 1,
    "wheelchair_accessible": False,
    "odometer_km": 48210,
    "next_service_date": "2030-07-15",
    "created_at": "2030-05-01T02:00:00Z",
}
PERIOD: dict[str, Any] = {
    "id": 4,
    "vehicle_id": 3,
    "starts_on": "2030-06-03",
    "ends_on": "2030-06-04",
    "reason": "60 000 km service",
    "created_by": "staff:2",
    "created_at": "2030-05-28T09:00:00Z",
    "ended_by": None,
    "ended_at": None,
    "jobs_to_move": ["6f1c2a9e-3b7d-4e0a-9c51-2d8e4f7a1b3c"],
}
NOT_FOUND = {404: "vehicle_not_found"}


@router.get(
    "",
    response_model=Page[VehiclePublic],
    summary="List vehicles",
    dependencies=[FleetReader],
    responses=listing(EXAMPLE),
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
    dependencies=[Manager],
    responses=answers(
        201,
        EXAMPLE,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            409: "vehicle_plate_taken: a vehicle with this plate exists",
            422: VALIDATION,
        },
        description="Registered",
    ),
)
async def create_vehicle(
    session: SessionDep, settings: SettingsDep, body: VehicleCreate
) -> VehiclePublic:
    """Add a vehicle to the fleet dispatch assigns from (managers). The plate is stored upper
    case, so two spellings of one plate are one vehicle. Jobs waiting for a vehicle are tried
    again."""
    vehicle = await fleet.register_vehicle(session, body)
    await fleet.changed(session, settings)
    await session.commit()
    return vehicle


@router.get(
    "/{vehicle_id}",
    response_model=VehiclePublic,
    summary="Get a vehicle",
    dependencies=[FleetReader],
    responses=answers(200, EXAMPLE, {**UNAUTHENTICATED, **READERS, **NOT_FOUND}),
)
async def get_vehicle(vehicle_id: RowId, session: SessionDep) -> VehiclePublic:
    """One vehicle with its equipment and upkeep, for dispatchers and managers."""
    return VehiclePublic.model_validate(await fleet.vehicle(session, vehicle_id))


@router.patch(
    "/{vehicle_id}",
    response_model=VehiclePublic,
    summary="Change a vehicle",
    dependencies=[Manager],
    responses=answers(
        200,
        EXAMPLE,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            **NOT_FOUND,
            409: "vehicle_has_jobs: live jobs it would no longer carry (listed in `jobs`)",
            422: f"{VALIDATION} or odometer_backwards",
        },
    ),
)
async def update_vehicle(
    vehicle_id: RowId, session: SessionDep, settings: SettingsDep, body: VehicleUpdate
) -> VehiclePublic:
    """Change equipment, capacity, class, status or upkeep (managers); fields left out stay.
    Refused while a live job the vehicle is assigned to would no longer fit it (out of
    service, fewer seats, bags or child seats, no wheelchair access): dispatch moves it first.
    Jobs waiting for a vehicle are tried again."""
    vehicle = await fleet.update_vehicle(session, vehicle_id, body)
    await fleet.changed(session, settings)
    await session.commit()
    return vehicle


@router.post(
    "/{vehicle_id}/maintenance",
    status_code=201,
    response_model=MaintenancePublic,
    summary="Record a maintenance period",
    responses=answers(
        201,
        PERIOD,
        {
            **UNAUTHENTICATED,
            **READERS,
            **NOT_FOUND,
            409: "maintenance_overlaps: the vehicle has a period on one of these days",
            422: f"{VALIDATION}, maintenance_dates_reversed, maintenance_in_past or "
            "maintenance_too_long",
        },
        description="Recorded",
    ),
)
async def create_maintenance(
    vehicle_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    principal: DispatchOrManager,
    body: Annotated[MaintenanceCreate, Body()],
) -> MaintenancePublic:
    """The vehicle is in the workshop from `starts_on` to `ends_on` (both days included,
    local to the jobs' property): nothing is assigned to it on those days. Allowed on days it
    already has jobs: each is given another vehicle at once (`reassigned`, the guest told), or
    escalated for dispatch when none can take it (`jobs_to_move`). Dispatchers and managers."""
    period = await fleet.add_maintenance(session, vehicle_id, body, actor_of(principal), settings)
    await fleet.changed(session, settings)
    await session.commit()
    return period


@router.get(
    "/{vehicle_id}/maintenance",
    response_model=Page[MaintenancePublic],
    summary="List a vehicle's maintenance periods",
    dependencies=[FleetReader],
    responses=listing(PERIOD | {"jobs_to_move": []}, NOT_FOUND),
)
async def list_maintenance(
    vehicle_id: RowId,
    session: SessionDep,
    paging: PagingDep,
    current: Annotated[
        bool, Query(description="Only periods not yet over (called-off ones left out)")
    ] = False,
) -> Page[MaintenancePublic]:
    """The vehicle's periods in the order they were recorded, ended ones included (with who
    ended them and when). Dispatchers and managers."""
    return await fleet.list_maintenance(session, vehicle_id, paging, current)


@router.post(
    "/{vehicle_id}/maintenance/{maintenance_id}/end",
    response_model=MaintenancePublic,
    summary="End a maintenance period",
    responses=answers(
        200,
        PERIOD | {"ends_on": "2030-06-03", "ended_by": "staff:5", "jobs_to_move": []},
        {
            **UNAUTHENTICATED,
            **READERS,
            404: "vehicle_not_found or maintenance_not_found",
            422: VALIDATION,
        },
    ),
)
async def end_maintenance(
    vehicle_id: RowId,
    maintenance_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    principal: DispatchOrManager,
    body: Annotated[MaintenanceEnd | None, Body()] = None,
) -> MaintenancePublic:
    """The vehicle is back in service from `back_on` (default today): the period's last day
    becomes the day before, or the period is called off if it had not begun. A period
    already ended, or over by then, answers 200 unchanged. Jobs waiting for a vehicle are
    tried again. Dispatchers and managers."""
    back_on = body.back_on if body is not None else None
    period = await fleet.end_maintenance(
        session, vehicle_id, maintenance_id, back_on, actor_of(principal)
    )
    await fleet.changed(session, settings)
    await session.commit()
    return period

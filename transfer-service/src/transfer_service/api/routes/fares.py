"""The fare table: managers keep it (by vehicle class and place pair), dispatch reads it."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from hotel_common.bounds import RowId
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Role, require

from transfer_service import fares
from transfer_service.api.common import SettingsDep
from transfer_service.models import FareCreate, FarePublic, FareUpdate, VehicleClass

router = APIRouter(prefix="/api/v1/fares", tags=["fares"])

EXAMPLE: dict[str, Any] = {
    "id": 4,
    "vehicle_class": "van",
    "from_place_id": 1,
    "to_place_id": 3,
    "amount": 42000,
    "currency": "CNY",
    "updated_at": "2030-05-01T02:00:00Z",
}
REFUSALS = {401: "unauthenticated: no signed-in caller"}
MANAGERS = {**REFUSALS, 403: "forbidden: managers only"}
NOT_FOUND = {404: "fare_not_found: no such fare"}


@router.get(
    "",
    response_model=Page[FarePublic],
    summary="List fares",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems(
            {400: "invalid_cursor", **REFUSALS, 403: "forbidden: dispatchers and managers only"}
        ),
    },
)
async def list_fares(
    session: SessionDep,
    paging: PagingDep,
    vehicle_class: VehicleClass | None = None,
    place_id: Annotated[
        RowId | None, Query(description="Fares starting or ending at this place")
    ] = None,
) -> Page[FarePublic]:
    """Fares in the order they were recorded, for dispatchers and managers. A fare recorded
    one way also prices the other way unless that direction has its own."""
    return await fares.list_fares(session, paging, vehicle_class, place_id)


@router.post(
    "",
    status_code=201,
    response_model=FarePublic,
    summary="Record a fare",
    dependencies=[Depends(require(Role.MANAGER))],
    responses={
        201: example(EXAMPLE, "Recorded"),
        **problems(
            {
                **MANAGERS,
                409: "fare_exists: this class and direction has a fare (update it)",
                422: "unknown_place or same_place: the places must exist and differ",
            }
        ),
    },
)
async def create_fare(session: SessionDep, settings: SettingsDep, body: FareCreate) -> FarePublic:
    """The base fare of a ride in a vehicle class between two places, in the service's
    currency; night surcharge and waiting charge are added on top when the job completes."""
    fare = await fares.create_fare(session, body, settings)
    await session.commit()
    return fare


@router.get(
    "/{fare_id}",
    response_model=FarePublic,
    summary="Get one fare",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
    responses={
        200: example(EXAMPLE),
        **problems({**REFUSALS, 403: "forbidden: dispatchers and managers only", **NOT_FOUND}),
    },
)
async def get_fare(session: SessionDep, fare_id: RowId) -> FarePublic:
    """One fare, for dispatchers and managers."""
    return FarePublic.model_validate(await fares.get_fare(session, fare_id))


@router.patch(
    "/{fare_id}",
    response_model=FarePublic,
    summary="Change a fare's amount",
    dependencies=[Depends(require(Role.MANAGER))],
    responses={200: example(EXAMPLE), **problems({**MANAGERS, **NOT_FOUND})},
)
async def update_fare(session: SessionDep, fare_id: RowId, body: FareUpdate) -> FarePublic:
    """A new amount for jobs completed from now on; issued receipts keep theirs (managers)."""
    fare = await fares.update_fare(session, fare_id, body)
    await session.commit()
    return fare


@router.delete(
    "/{fare_id}",
    status_code=204,
    summary="Remove a fare",
    dependencies=[Depends(require(Role.MANAGER))],
    responses=problems({**MANAGERS, **NOT_FOUND}),
)
async def delete_fare(session: SessionDep, fare_id: RowId) -> None:
    """Jobs completed afterwards on this class and pair fall back to the other direction's
    fare, or carry none (managers). Issued receipts are kept."""
    await fares.delete_fare(session, fare_id)
    await session.commit()

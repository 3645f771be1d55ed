"""Places transfers start and end at: dispatch and managers read them; managers keep them."""

from typing import Any

from fastapi import APIRouter
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep

from transfer_service import places
from transfer_service.api.common import (
    MANAGERS,
    READERS,
    UNAUTHENTICATED,
    VALIDATION,
    FleetReader,
    Manager,
    listing,
)
from transfer_service.models import PlaceCreate, PlaceKind, PlacePublic, PlaceUpdate

router = APIRouter(prefix="/api/v1/places", tags=["places"])

EXAMPLE: dict[str, Any] = {
    "id": 1,
    "code": "PVG",
    "name": "Shanghai Pudong International Airport",
    "kind": "airport",
    "aliases": ["Pudong Airport", "Shanghai Pudong International Airport T1", "浦东机场"],
    "created_at": "2030-05-01T02:00:00Z",
    "updated_at": "2030-05-01T02:00:00Z",
}
NOT_FOUND = {404: "place_not_found"}
TAKEN = (
    "place_code_taken or place_name_taken: the code, the name or an alias already names "
    "another place (`place_id`)"
)


@router.get(
    "",
    response_model=Page[PlacePublic],
    summary="List places",
    dependencies=[FleetReader],
    responses=listing(EXAMPLE),
)
async def list_places(
    session: SessionDep, paging: PagingDep, kind: PlaceKind | None = None
) -> Page[PlacePublic]:
    """Places in the order they were added. Dispatchers and managers."""
    return await places.list_places(session, paging, kind)


@router.post(
    "",
    status_code=201,
    response_model=PlacePublic,
    summary="Add a place",
    dependencies=[Manager],
    responses=answers(
        201,
        EXAMPLE,
        {**UNAUTHENTICATED, **MANAGERS, 409: TAKEN, 422: VALIDATION},
        description="Added",
    ),
)
async def create_place(session: SessionDep, body: PlaceCreate) -> PlacePublic:
    """An airport, a station, a property or another place (managers). The code is stored upper
    case; an event's place text finds the place by its code, name or an alias, case and spacing
    ignored, so each of those names one place only."""
    place = await places.create_place(session, body)
    await session.commit()
    return place


@router.get(
    "/{place_id}",
    response_model=PlacePublic,
    summary="Get a place",
    dependencies=[FleetReader],
    responses=answers(200, EXAMPLE, {**UNAUTHENTICATED, **READERS, **NOT_FOUND}),
)
async def get_place(place_id: RowId, session: SessionDep) -> PlacePublic:
    """One place with its aliases. Dispatchers and managers."""
    return PlacePublic.model_validate(await places.get(session, place_id))


@router.patch(
    "/{place_id}",
    response_model=PlacePublic,
    summary="Change a place",
    dependencies=[Manager],
    responses=answers(
        200, EXAMPLE, {**UNAUTHENTICATED, **MANAGERS, **NOT_FOUND, 409: TAKEN, 422: VALIDATION}
    ),
)
async def update_place(place_id: RowId, session: SessionDep, body: PlaceUpdate) -> PlacePublic:
    """Change the code, name, kind or aliases (the list given replaces the old one) of a place
    (managers). Jobs already planned keep their times; new and re-planned ones resolve with the
    new spellings."""
    place = await places.update_place(session, place_id, body)
    await session.commit()
    return place

"""The travel-time table: dispatch and managers read it; managers set and remove pairs."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep

from transfer_service import places
from transfer_service.api.common import (
    MANAGERS,
    UNAUTHENTICATED,
    VALIDATION,
    FleetReader,
    Manager,
    listing,
)
from transfer_service.models import TravelTimePublic, TravelTimeSet

router = APIRouter(prefix="/api/v1/travel-times", tags=["places"])

EXAMPLE: dict[str, Any] = {
    "from_place_id": 1,
    "from_code": "PVG",
    "to_place_id": 4,
    "to_code": "HARBOUR",
    "minutes": 55,
    "updated_at": "2030-05-01T02:00:00Z",
}
NOT_FOUND = {404: "place_not_found"}
PAIR = "/{from_place_id}/{to_place_id}"


@router.get(
    "",
    response_model=Page[TravelTimePublic],
    summary="List travel times",
    dependencies=[FleetReader],
    responses=listing(EXAMPLE),
)
async def list_travel_times(
    session: SessionDep,
    paging: PagingDep,
    place_id: Annotated[RowId | None, Query(description="Only pairs from or to this place")] = None,
) -> Page[TravelTimePublic]:
    """The table's rows in the order they were first set. A pair without a row in either
    direction takes the default trip length (settings). Dispatchers and managers."""
    return await places.list_times(session, paging, place_id)


@router.put(
    PAIR,
    response_model=TravelTimePublic,
    summary="Set a travel time",
    dependencies=[Manager],
    responses=answers(
        200,
        EXAMPLE,
        {**UNAUTHENTICATED, **MANAGERS, **NOT_FOUND, 422: f"{VALIDATION} or same_place"},
        description="Set (201 when the pair had no row in this direction)",
    ),
)
async def set_travel_time(
    from_place_id: RowId,
    to_place_id: RowId,
    body: TravelTimeSet,
    session: SessionDep,
    response: Response,
) -> TravelTimePublic:
    """Driving minutes from the first place to the second (managers). The other direction
    uses this row too until it has one of its own. Jobs already planned keep their times;
    new and re-planned ones use the new minutes."""
    time, created = await places.set_time(session, from_place_id, to_place_id, body.minutes)
    await session.commit()
    response.status_code = 201 if created else 200
    return time


@router.delete(
    PAIR,
    response_model=TravelTimePublic,
    summary="Remove a travel time",
    dependencies=[Manager],
    responses=answers(
        200,
        EXAMPLE,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            404: "place_not_found or travel_time_not_found",
            422: f"{VALIDATION} or same_place",
        },
        description="Removed: the row as it was",
    ),
)
async def delete_travel_time(
    from_place_id: RowId, to_place_id: RowId, session: SessionDep
) -> TravelTimePublic:
    """Remove this direction's row (managers): the other direction's, else the default trip
    length, counts from now on. Answers the row removed."""
    removed = await places.delete_time(session, from_place_id, to_place_id)
    await session.commit()
    return removed

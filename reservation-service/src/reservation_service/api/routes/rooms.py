from typing import Annotated

from fastapi import APIRouter, Body, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep

from reservation_service import catalog
from reservation_service.access import MANAGERS, ROOM_READERS
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    NEW_ROOM,
    ROOM,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.models import HousekeepingStatus, RoomCreate, RoomPublic, RoomUpdate

router = APIRouter(prefix="/api/v1/rooms", tags=["catalog"])


@router.get(
    "",
    response_model=Page[RoomPublic],
    summary="List rooms",
    responses=answers(200, page(ROOM), INVALID_CURSOR | UNAUTHENTICATED | FORBIDDEN),
)
async def list_rooms(
    session: SessionDep,
    paging: PagingDep,
    principal: ROOM_READERS,
    room_type_code: Annotated[
        str | None, Query(description="Only rooms of this type (case-insensitive)")
    ] = None,
    status: Annotated[
        HousekeepingStatus | None, Query(description="Only rooms in this housekeeping status")
    ] = None,
    property_id: Annotated[RowId | None, Query(description="Only this property's")] = None,
) -> Page[RoomPublic]:
    """The rooms of your properties with their housekeeping status. Desk staff and
    housekeeping."""
    return await catalog.list_rooms(
        session,
        paging,
        principal,
        property_id=property_id,
        room_type_code=room_type_code,
        status=status,
    )


@router.post(
    "",
    status_code=201,
    response_model=RoomPublic,
    summary="Add a room",
    dependencies=[MANAGERS],
    responses=answers(
        201,
        ROOM,
        UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "room_number_taken or no_property",
            422: f"{VALIDATION}, unknown_room_type, unknown_property or property_required",
        },
    ),
)
async def create_room(
    data: Annotated[RoomCreate, Body(openapi_examples={"room": {"value": NEW_ROOM}})],
    session: SessionDep,
    principal: PrincipalDep,
) -> RoomPublic:
    """A room of a room type (by code) at a property (the only one by default). Managers only,
    at their properties."""
    room = await catalog.create_room(session, data, principal)
    await session.commit()
    return room


@router.patch(
    "/{room_id}",
    response_model=RoomPublic,
    summary="Change a room's housekeeping status",
    responses=answers(
        200,
        ROOM,
        UNAUTHENTICATED | FORBIDDEN | {404: "room_not_found", 422: VALIDATION},
    ),
)
async def update_room(
    room_id: RowId,
    data: Annotated[
        RoomUpdate, Body(openapi_examples={"cleaned": {"value": {"housekeeping_status": "clean"}}})
    ],
    session: SessionDep,
    principal: ROOM_READERS,
) -> RoomPublic:
    """clean, dirty, inspected or out_of_order. The same status again answers 200 unchanged.
    `out_of_order` takes the room out of inventory on every night until it gets another status
    (for a date range, use an out-of-order period). Desk staff and housekeeping, at their
    properties; another property's room is a 404."""
    room = await catalog.set_housekeeping(session, principal, room_id, data.housekeeping_status)
    await session.commit()
    return room

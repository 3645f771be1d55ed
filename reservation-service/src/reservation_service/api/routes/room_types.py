from typing import Annotated

from fastapi import APIRouter, Body, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep

from reservation_service import catalog
from reservation_service.access import MANAGERS
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    NEW_ROOM_TYPE,
    ROOM_TYPE,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.models import RoomTypeCreate, RoomTypePublic

router = APIRouter(prefix="/api/v1/room-types", tags=["catalog"])


@router.get(
    "",
    response_model=Page[RoomTypePublic],
    summary="List room types",
    responses=answers(200, page(ROOM_TYPE), INVALID_CURSOR),
)
async def list_room_types(
    session: SessionDep,
    paging: PagingDep,
    property_id: Annotated[RowId | None, Query(description="Only this property's")] = None,
) -> Page[RoomTypePublic]:
    """Room types with their capacity, beds and price per night (minor units of `currency`).
    Open to everyone, signed in or not."""
    return await catalog.list_room_types(session, paging, property_id)


@router.post(
    "",
    status_code=201,
    response_model=RoomTypePublic,
    summary="Add a room type",
    dependencies=[MANAGERS],
    responses=answers(
        201,
        ROOM_TYPE,
        UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "room_type_exists (code taken at the property) or no_property",
            422: f"{VALIDATION}, unknown_property or property_required",
        },
    ),
)
async def create_room_type(
    data: Annotated[RoomTypeCreate, Body(openapi_examples={"king": {"value": NEW_ROOM_TYPE}})],
    session: SessionDep,
    principal: PrincipalDep,
) -> RoomTypePublic:
    """A room type at a property (the only one by default). Managers only, at their
    properties."""
    room_type = await catalog.create_room_type(session, data, principal)
    await session.commit()
    return room_type

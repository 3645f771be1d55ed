from fastapi import APIRouter
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Cursor, Limit, Page

from reservation_service import catalog
from reservation_service.models import HousekeepingStatus, RoomCreate, RoomPublic

router = APIRouter(prefix="/api/v1/rooms", tags=["catalog"])


@router.get("", response_model=Page[RoomPublic])
async def list_rooms(
    session: SessionDep,
    room_type: str | None = None,
    status: HousekeepingStatus | None = None,
    property_id: int | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RoomPublic]:
    rows, next_cursor = await catalog.list_rooms(
        session,
        property_id=property_id,
        room_type=room_type,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=rows, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=RoomPublic,
    responses=problems(
        {
            409: "room_number_taken or no_property",
            422: "validation_error, unknown_room_type, unknown_property or property_required",
        }
    ),
)
async def create_room(data: RoomCreate, session: SessionDep) -> RoomPublic:
    return await catalog.create_room(session, data)

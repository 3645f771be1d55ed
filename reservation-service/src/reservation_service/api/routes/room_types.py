from fastapi import APIRouter
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Cursor, Limit, Page

from reservation_service import catalog
from reservation_service.models import RoomTypeCreate, RoomTypePublic

router = APIRouter(prefix="/api/v1/room-types", tags=["catalog"])


@router.get("", response_model=Page[RoomTypePublic])
async def list_room_types(
    session: SessionDep, property_id: int | None = None, limit: Limit = 50, cursor: Cursor = None
) -> Page[RoomTypePublic]:
    rows, next_cursor = await catalog.list_room_types(session, property_id, limit, cursor)
    return Page(items=rows, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=RoomTypePublic,
    responses=problems(
        {
            409: "room_type_exists (code taken at the property) or no_property",
            422: "validation_error, unknown_property or property_required",
        }
    ),
)
async def create_room_type(data: RoomTypeCreate, session: SessionDep) -> RoomTypePublic:
    return await catalog.create_room_type(session, data)

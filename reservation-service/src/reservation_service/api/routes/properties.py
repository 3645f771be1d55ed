from fastapi import APIRouter
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Cursor, Limit, Page

from reservation_service import catalog
from reservation_service.models import PropertyCreate, PropertyPublic

router = APIRouter(prefix="/api/v1/properties", tags=["catalog"])


@router.get("", response_model=Page[PropertyPublic])
async def list_properties(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[PropertyPublic]:
    rows, next_cursor = await catalog.list_properties(session, limit, cursor)
    return Page(items=[PropertyPublic.model_validate(p) for p in rows], next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=PropertyPublic,
    responses=problems({409: "property_exists", 422: "validation_error"}),
)
async def create_property(data: PropertyCreate, session: SessionDep) -> PropertyPublic:
    return PropertyPublic.model_validate(await catalog.create_property(session, data))

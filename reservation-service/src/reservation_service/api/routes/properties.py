from typing import Annotated

from fastapi import APIRouter, Body
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep

from reservation_service import catalog
from reservation_service.access import MANAGERS
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    NEW_PROPERTY,
    PROPERTY,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.models import PropertyCreate, PropertyPublic

router = APIRouter(prefix="/api/v1/properties", tags=["catalog"])


@router.get(
    "",
    response_model=Page[PropertyPublic],
    summary="List properties",
    responses=answers(200, page(PROPERTY), INVALID_CURSOR),
)
async def list_properties(session: SessionDep, paging: PagingDep) -> Page[PropertyPublic]:
    """The hotels of the platform, oldest first. Open to everyone, signed in or not."""
    return await catalog.list_properties(session, paging)


@router.post(
    "",
    status_code=201,
    response_model=PropertyPublic,
    summary="Add a property",
    dependencies=[MANAGERS],
    responses=answers(
        201,
        PROPERTY,
        UNAUTHENTICATED | FORBIDDEN | {409: "property_exists", 422: VALIDATION},
    ),
)
async def create_property(
    data: Annotated[PropertyCreate, Body(openapi_examples={"hotel": {"value": NEW_PROPERTY}})],
    session: SessionDep,
) -> PropertyPublic:
    """A new hotel, with its time zone and currency. Managers only."""
    prop = await catalog.create_property(session, data)
    await session.commit()
    return PropertyPublic.model_validate(prop)

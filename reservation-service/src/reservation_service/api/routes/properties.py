from typing import Annotated

from fastapi import APIRouter, Body
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep

from reservation_service import catalog
from reservation_service.access import MANAGERS, check_property
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    NEW_PROPERTY,
    PROPERTY,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.models import Property, PropertyCreate, PropertyPublic, PropertyUpdate

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


@router.patch(
    "/{property_id}",
    response_model=PropertyPublic,
    summary="Change a property's taxes or times",
    dependencies=[MANAGERS],
    responses=answers(
        200,
        PROPERTY | {"tax_rate_bp": 600},
        UNAUTHENTICATED
        | FORBIDDEN
        | {404: "property_not_found", 422: f"{VALIDATION}: also for a field not listed"},
    ),
)
async def update_property(
    property_id: RowId,
    data: Annotated[
        PropertyUpdate, Body(openapi_examples={"vat": {"value": {"tax_rate_bp": 600}}})
    ],
    session: SessionDep,
    principal: PrincipalDep,
) -> PropertyPublic:
    """Set the tax rate (basis points of a stay's room amount, added to its total) or the
    check-in and check-out times. Quotes and new bookings use them at once; bookings already
    made keep what they were priced with. Managers only, at their properties."""
    prop = await session.get(Property, property_id, with_for_update=True)
    if prop is None:
        raise NotFound("property", property_id)
    check_property(principal, prop)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(prop, field, value)
    if changes:
        session.add(prop)
        await session.commit()
        await session.refresh(prop)
    return PropertyPublic.model_validate(prop)

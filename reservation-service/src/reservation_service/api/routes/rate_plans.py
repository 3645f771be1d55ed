from typing import Annotated

from fastapi import APIRouter, Body, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep

from reservation_service.access import MANAGERS
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.rates import plans
from reservation_service.rates.examples import NEW_BASE_PLAN, NEW_DERIVED_PLAN, RATE_PLAN
from reservation_service.rates.models import RatePlanCreate, RatePlanPublic, RatePlanUpdate

router = APIRouter(prefix="/api/v1/rate-plans", tags=["rates"])

PLAN_NOT_FOUND = {404: "rate_plan_not_found"}


@router.get(
    "",
    response_model=Page[RatePlanPublic],
    summary="List rate plans",
    responses=answers(200, page(RATE_PLAN), INVALID_CURSOR | {422: VALIDATION}),
)
async def list_rate_plans(
    session: SessionDep,
    paging: PagingDep,
    property_id: Annotated[RowId | None, Query(description="Only this property's")] = None,
    room_type_code: Annotated[
        str | None, Query(description="Only this room type's (case-insensitive)")
    ] = None,
) -> Page[RatePlanPublic]:
    """The rate plans set up, oldest first, with their prices, seasons and terms. A room type
    with no BASE plan listed is sold under an implicit one (its base amount, free cancellation
    until 24 hours before arrival, no guarantee). Open to everyone, signed in or not."""
    return await plans.list_plans(session, paging, property_id, room_type_code)


@router.get(
    "/{plan_id}",
    response_model=RatePlanPublic,
    summary="Read a rate plan",
    responses=answers(200, RATE_PLAN, PLAN_NOT_FOUND),
)
async def get_rate_plan(plan_id: RowId, session: SessionDep) -> RatePlanPublic:
    """One rate plan by id, with its prices, seasons, cancellation policy and guarantee. Open
    to everyone, signed in or not."""
    return await plans.get_plan(session, plan_id)


@router.post(
    "",
    status_code=201,
    response_model=RatePlanPublic,
    summary="Add a rate plan",
    dependencies=[MANAGERS],
    responses=answers(
        201,
        RATE_PLAN,
        UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "rate_plan_exists (code taken for the room type) or no_property",
            422: f"{VALIDATION}, unknown_room_type, unknown_rate_plan (parent_code), "
            "parent_not_base, base_plan_not_derived, unknown_property or property_required",
        },
    ),
)
async def create_rate_plan(
    data: Annotated[
        RatePlanCreate,
        Body(
            openapi_examples={
                "base": {"summary": "A base plan with a season", "value": NEW_BASE_PLAN},
                "member": {"summary": "A member rate, 10 % off BASE", "value": NEW_DERIVED_PLAN},
            }
        ),
    ],
    session: SessionDep,
    principal: PrincipalDep,
) -> RatePlanPublic:
    """A rate plan of a room type: a base plan (weekday and weekend prices, seasons; default
    the room type's base amount) or a derived plan (`parent_code` and `discount_bp`: basis
    points off a base plan of the same room type, following its prices). Each plan has its
    own cancellation policy and guarantee. The plan coded BASE is the room type's default.
    Managers only, at their properties."""
    plan = await plans.create_plan(session, data, principal)
    await session.commit()
    return plan


@router.patch(
    "/{plan_id}",
    response_model=RatePlanPublic,
    summary="Change a rate plan",
    dependencies=[MANAGERS],
    responses=answers(
        200,
        RATE_PLAN,
        UNAUTHENTICATED
        | FORBIDDEN
        | PLAN_NOT_FOUND
        | {422: f"{VALIDATION}, derived_plan_prices or base_plan_discount"},
    ),
)
async def update_rate_plan(
    plan_id: RowId,
    data: Annotated[
        RatePlanUpdate,
        Body(openapi_examples={"weekend": {"value": {"weekend_amount": 59800}}}),
    ],
    session: SessionDep,
    principal: PrincipalDep,
) -> RatePlanPublic:
    """Change a plan's name, prices, seasons (replaced as a whole), discount or terms. New
    quotes and bookings use them at once; bookings already made keep the prices and terms
    they were made with. Managers only, at their properties."""
    plan = await plans.update_plan(session, plan_id, data, principal)
    await session.commit()
    return plan

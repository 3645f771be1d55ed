from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError
from hotel_common.principal import ApiScope, Kind, Principal, Role, require
from hotel_common.time import IsoDate

from reservation_service.access import DESK, check_property
from reservation_service.api.contract import FORBIDDEN, UNAUTHENTICATED, VALIDATION
from reservation_service.api.deps import SettingsDep
from reservation_service.catalog import resolve_property
from reservation_service.rates import plans
from reservation_service.rates.examples import ARI, PUSH_RESULT, RATES_PUSH, RESTRICTIONS_PUSH
from reservation_service.rates.models import Ari, PushResult, RatesPush, RestrictionsPush

router = APIRouter(prefix="/api/v1", tags=["rates"])

_Writers = Annotated[Principal, Depends(require(Role.MANAGER, kinds=(Kind.PARTNER,)))]
_Readers = Annotated[Principal, Depends(require(*DESK, kinds=(Kind.PARTNER,)))]


def _channel_manager(principal: Principal) -> Principal:
    if principal.kind is Kind.PARTNER and not principal.may(ApiScope.ARI_WRITE):
        raise ProblemError(403, "forbidden", f"This API key lacks the scope {ApiScope.ARI_WRITE}.")
    return principal


async def ari_writer(principal: _Writers) -> Principal:
    """Managers (their properties) and channel managers (partner keys with `ari:write`)."""
    return _channel_manager(principal)


async def ari_reader(principal: _Readers) -> Principal:
    """Desk staff and managers (their properties), channel managers (`ari:write`)."""
    return _channel_manager(principal)


AriWriter = Annotated[Principal, Depends(ari_writer)]
AriReader = Annotated[Principal, Depends(ari_reader)]

PUSH_ERRORS = {
    404: "rate_plan_not_found",
    422: f"{VALIDATION}, range_in_past, range_too_far or min_stay_above_max_stay",
}
WHO = (
    " Managers (their properties) and channel managers (partner keys with `ari:write`). All "
    "or nothing; repeating a push changes nothing (`changed` 0)."
)


@router.put(
    "/rate-plans/{plan_id}/rates",
    response_model=PushResult,
    summary="Push prices for date ranges",
    description="Set the price of every night of the ranges (optionally only some nights of "
    "the week) on a base plan; `amount` null clears the pushed price so the plan's own prices "
    "apply again. A pushed price wins over weekday, weekend and season prices; derived plans "
    "follow it. A later range of the call wins over an earlier one." + WHO,
    responses=answers(
        200,
        PUSH_RESULT,
        UNAUTHENTICATED
        | FORBIDDEN
        | PUSH_ERRORS
        | {409: "derived_plan_prices (push to the parent plan)"},
    ),
)
async def push_rates(
    plan_id: RowId,
    data: Annotated[RatesPush, Body(openapi_examples={"june": {"value": RATES_PUSH}})],
    session: SessionDep,
    settings: SettingsDep,
    principal: AriWriter,
) -> PushResult:
    result = await plans.push_rates(session, plan_id, data, principal, settings)
    await session.commit()
    return result


@router.put(
    "/rate-plans/{plan_id}/restrictions",
    response_model=PushResult,
    summary="Push restrictions for date ranges",
    description="Set restrictions on every night of the ranges (optionally only some nights "
    "of the week): minimum and maximum stay (of a stay arriving that night), closed to "
    "arrival, closed to departure, stop-sell. Fields a range leaves out keep their value; null "
    "clears a minimum or maximum stay. A derived plan is bound by its parent's restrictions "
    "and its own." + WHO,
    responses=answers(200, PUSH_RESULT, UNAUTHENTICATED | FORBIDDEN | PUSH_ERRORS),
)
async def push_restrictions(
    plan_id: RowId,
    data: Annotated[
        RestrictionsPush, Body(openapi_examples={"weekends": {"value": RESTRICTIONS_PUSH}})
    ],
    session: SessionDep,
    settings: SettingsDep,
    principal: AriWriter,
) -> PushResult:
    result = await plans.push_restrictions(session, plan_id, data, principal, settings)
    await session.commit()
    return result


@router.get(
    "/ari",
    response_model=Ari,
    summary="Read availability, rates and restrictions",
    responses=answers(
        200,
        ARI,
        UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "no_property",
            422: f"{VALIDATION}, to_not_after_from, range_too_long (over 366 nights), "
            "unknown_room_type, unknown_property or property_required",
        },
    ),
)
async def read_ari(
    session: SessionDep,
    principal: AriReader,
    start: Annotated[IsoDate, Query(alias="from", description="First night")],
    end: Annotated[IsoDate, Query(alias="to", description="Night after the last (exclusive)")],
    room_type_code: Annotated[
        str | None, Query(description="Only this room type (case-insensitive)")
    ] = None,
    rate_plan_code: Annotated[
        str | None, Query(description="Only plans with this code (case-insensitive)")
    ] = None,
    property_id: Annotated[RowId | None, Query(description="Defaults to the only property")] = None,
) -> Ari:
    """Per room type and night: rooms free; per rate plan and night: the price and the
    restrictions set on that plan (a derived plan is also bound by its parent's). Up to 366
    nights in one call. Desk staff and managers (their properties), channel managers
    (`ari:write`)."""
    prop = await resolve_property(session, property_id, "query")
    check_property(principal, prop)
    return await plans.read_ari(session, prop, start, end, room_type_code, rate_plan_code)

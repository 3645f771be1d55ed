from typing import Annotated

from fastapi import APIRouter, Body
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.principal import Kind, PrincipalDep

from reservation_service import partner_mappings
from reservation_service.api.contract import VALIDATION
from reservation_service.api.deps import SettingsDep
from reservation_service.catalog import resolve_property
from reservation_service.rates import search
from reservation_service.rates.examples import NEW_QUOTE, QUOTE
from reservation_service.rates.models import Quote, QuoteRequest
from reservation_service.stays import today_at, validate_stay

router = APIRouter(prefix="/api/v1/quotes", tags=["rates"])


@router.post(
    "",
    response_model=Quote,
    summary="Price a stay",
    responses=answers(
        200,
        QUOTE,
        {
            409: "stay_restricted (the problem names `restriction`: min_stay, max_stay, "
            "closed_to_arrival, closed_to_departure or stop_sell, and the `night`), no_property",
            422: f"{VALIDATION}, unmapped_code, unknown_room_type, unknown_rate_plan, "
            "too_many_guests, "
            "check_out_not_after_check_in, stay_too_long, check_in_in_past, check_in_too_far, "
            "unknown_property or property_required",
        },
    ),
)
async def create_quote(
    data: Annotated[QuoteRequest, Body(openapi_examples={"member": {"value": NEW_QUOTE}})],
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> Quote:
    """The stay priced night by night under a rate plan (default the room type's BASE plan),
    the property's taxes, the total in minor units of `currency`, the rooms free now, and the
    cancellation policy and guarantee a booking would agree to (with the instant free
    cancellation ends and the deposit or prepayment owed). Nothing is booked or held: a
    booking made later is priced again. A loyalty member (`guest_email`, or the signed-in
    guest) is quoted the member rate under the BASE plan, shown in `member_discount`. Open to
    everyone, signed in or not. A partner with a code mapping at the property sends its own
    room type and plan codes (an unmapped one: 422 `unmapped_code`); the answer names the
    hotel's."""
    data = await partner_mappings.translate_quote(session, principal, data)
    prop = await resolve_property(session, data.property_id, "body")
    validate_stay(
        data.check_in,
        data.check_out,
        today=today_at(prop.timezone),
        max_nights=settings.max_stay_nights,
        max_days_ahead=settings.max_booking_horizon_days,
        where="body",
    )
    email = data.guest_email or (principal.email if principal.kind is Kind.GUEST else None)
    return await search.quote(session, prop, data, email)

from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.time import IsoDate

from reservation_service.api.contract import AVAILABILITY, VALIDATION
from reservation_service.api.deps import SettingsDep
from reservation_service.catalog import resolve_property
from reservation_service.models import Availability
from reservation_service.problems import invalid_field
from reservation_service.rates import search
from reservation_service.stays import today_at, validate_stay

router = APIRouter(prefix="/api/v1/availability", tags=["availability"])


@router.get(
    "",
    response_model=Availability,
    summary="Check availability and prices",
    responses=answers(
        200,
        AVAILABILITY,
        {
            409: "no_property",
            422: f"{VALIDATION}, check_out_not_after_check_in, stay_too_long, "
            "check_in_in_past, check_in_too_far, party_mismatch, unknown_property or "
            "property_required",
        },
    ),
)
async def get_availability(
    session: SessionDep,
    settings: SettingsDep,
    check_in: Annotated[IsoDate, Query(description="First night, property time")],
    check_out: Annotated[IsoDate, Query(description="Day of departure, after check_in")],
    guests: Annotated[
        int | None, Query(ge=1, le=20, description="Only room types sleeping this many")
    ] = None,
    adults: Annotated[
        int | None, Query(ge=1, le=20, description="Adults of the party (instead of guests)")
    ] = None,
    children: Annotated[
        int, Query(ge=0, le=10, description="Children of the party, counted with adults")
    ] = 0,
    sellable_only: Annotated[
        bool, Query(description="Leave out room types with no room free or no plan to sell")
    ] = False,
    property_id: Annotated[RowId | None, Query(description="Defaults to the only property")] = None,
) -> Availability:
    """Rooms free on every night of the stay (and each night), per room type sleeping the
    party, with the price of the stay under its BASE plan (taxes included) and every rate plan
    the stay may be booked under now (restrictions honoured), each priced night by night with
    taxes, total and terms, in minor units of `currency`. The party is `guests`, or `adults`
    plus `children`. Open to everyone, signed in or not."""
    party = guests
    if adults is not None:
        if guests is not None and guests != adults + children:
            raise invalid_field(
                "party_mismatch", "query.guests", "guests, with adults, is adults plus children."
            )
        party = adults + children
    elif children:
        raise invalid_field(
            "party_mismatch", "query.children", "Children travel with adults: give adults."
        )
    prop = await resolve_property(session, property_id, "query")
    nights = validate_stay(
        check_in,
        check_out,
        today=today_at(prop.timezone),
        max_nights=settings.max_stay_nights,
        max_days_ahead=settings.max_booking_horizon_days,
        where="query",
    )
    room_types = await search.search(
        session, prop, check_in, check_out, party, sellable_only=sellable_only
    )
    return Availability(
        property_id=prop.id,
        check_in=check_in,
        check_out=check_out,
        nights=nights,
        guests=party,
        room_types=room_types,
    )

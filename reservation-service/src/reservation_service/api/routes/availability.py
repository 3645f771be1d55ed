from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.time import IsoDate

from reservation_service import inventory
from reservation_service.api.contract import AVAILABILITY, VALIDATION
from reservation_service.api.deps import SettingsDep
from reservation_service.catalog import resolve_property
from reservation_service.models import Availability
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
            "check_in_in_past, check_in_too_far, unknown_property or property_required",
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
    property_id: Annotated[RowId | None, Query(description="Defaults to the only property")] = None,
) -> Availability:
    """Rooms free on every night of the stay, per room type, with the price of the stay in
    minor units of `currency`. Open to everyone, signed in or not."""
    prop = await resolve_property(session, property_id, "query")
    nights = validate_stay(
        check_in,
        check_out,
        today=today_at(prop.timezone),
        max_nights=settings.max_stay_nights,
        max_days_ahead=settings.max_booking_horizon_days,
        where="query",
    )
    room_types = await inventory.availability(session, prop, check_in, check_out, guests)
    return Availability(
        property_id=prop.id,
        check_in=check_in,
        check_out=check_out,
        nights=nights,
        guests=guests,
        room_types=room_types,
    )

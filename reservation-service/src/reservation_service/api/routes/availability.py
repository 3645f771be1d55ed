from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.deps import SessionDep
from hotel_common.errors import problems

from reservation_service import inventory
from reservation_service.api.deps import SettingsDep
from reservation_service.catalog import resolve_property
from reservation_service.models import Availability
from reservation_service.stays import today_at, validate_stay

router = APIRouter(prefix="/api/v1/availability", tags=["availability"])


@router.get(
    "",
    response_model=Availability,
    responses=problems(
        {
            409: "no_property",
            422: "validation_error, check_out_not_after_check_in, stay_too_long, "
            "check_in_in_past, unknown_property or property_required",
        }
    ),
)
async def get_availability(
    session: SessionDep,
    settings: SettingsDep,
    check_in: date,
    check_out: date,
    guests: Annotated[int | None, Query(ge=1, le=20)] = None,
    property_id: int | None = None,
) -> Availability:
    """Rooms free on every night of the stay, per room type, with the price of the stay."""
    prop = await resolve_property(session, property_id, "query")
    nights = validate_stay(
        check_in,
        check_out,
        today=today_at(prop.timezone),
        max_nights=settings.max_stay_nights,
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

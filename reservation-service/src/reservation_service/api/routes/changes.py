"""Changing a booking after it was made: modification (PATCH) and its guarantee."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.principal import Kind, Principal, PrincipalDep, require

from reservation_service import changes, lifecycle
from reservation_service.access import (
    DESK,
    EVERY_BOOKING,
    ActorDep,
    Reach,
    WriteReach,
    in_properties,
)
from reservation_service.api.contract import (
    CONFIRMED_RESERVATION,
    FORBIDDEN,
    RESERVATION_NOT_FOUND,
    UNAUTHENTICATED,
    VALIDATION,
)
from reservation_service.api.deps import SettingsDep
from reservation_service.api.routes.reservations import WHO_WRITES
from reservation_service.changes import ReservationUpdate
from reservation_service.models import ReservationPublic

router = APIRouter(prefix="/api/v1/reservations", tags=["reservations"])

MODIFIED_RESERVATION = CONFIRMED_RESERVATION | {
    "check_out": "2030-06-05",
    "nights": 4,
    "nightly_amounts": [52800, 52800, 52800, 52800],
    "total_amount": 211200,
    "updated_at": "2030-05-22T10:00:00Z",
}


async def guarantee_reach(
    principal: Annotated[Principal, Depends(require(*DESK, kinds=(Kind.SERVICE,)))],
) -> Reach:
    """Marking a guarantee met: desk staff at their properties, the payment flow (a service
    call) for every booking. Guests and partners do not vouch for their own payment."""
    if principal.kind is Kind.SERVICE:
        return EVERY_BOOKING
    return Reach(in_properties(principal))


@router.patch(
    "/{reservation_id}",
    response_model=ReservationPublic,
    summary="Modify a booking",
    description="Change a requested or confirmed booking's dates, room type, guests, rate plan "
    "or arrival pickup (`transfer`: an object replaces it, null removes it); fields left out "
    "stay as they are. The stay is checked as a new booking would be and re-priced; a "
    "confirmed booking's rooms move to the new stay in the same step, or nothing changes (409 "
    "`no_availability`). Announces `reservation.modified` with what changed; a body that "
    "changes nothing answers the booking unchanged and announces nothing. A partner with a code "
    "mapping at the property sends its own room type and plan codes.\n\n" + WHO_WRITES,
    responses=answers(
        200,
        MODIFIED_RESERVATION,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "not_modifiable (not requested or confirmed), no_availability, "
            "stay_restricted, check_in_passed",
            422: f"{VALIDATION}; unmapped_code, unknown_room_type, unknown_rate_plan, "
            "too_many_guests, "
            "too_many_passengers, check_out_not_after_check_in, stay_too_long, "
            "check_in_in_past, check_in_too_far, arrival_in_past, arrival_outside_stay, "
            "arrival_too_soon",
        },
    ),
)
async def modify_reservation(
    reservation_id: str,
    data: Annotated[
        ReservationUpdate,
        Body(openapi_examples={"one_more_night": {"value": {"check_out": "2030-06-05"}}}),
    ],
    session: SessionDep,
    reach: WriteReach,
    actor: ActorDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ReservationPublic:
    booking = await changes.modify(
        session, reservation_id, data, reach, actor, settings, principal=principal
    )
    await session.commit()
    return booking.public()


@router.post(
    "/{reservation_id}/guarantee",
    response_model=ReservationPublic,
    summary="Mark a booking's guarantee met",
    description="The deposit or prepayment its terms ask was received: the booking is no "
    "longer cancelled at `guarantee_due_at`. Idempotent: a guaranteed booking is returned "
    "unchanged. Desk staff (front desk, reservations, manager) at their properties, or the "
    "payment flow (service credentials).",
    responses=answers(
        200,
        CONFIRMED_RESERVATION | {"guaranteed_at": "2030-05-20T09:00:00Z"},
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {409: "invalid_transition (not requested or confirmed)"},
    ),
)
async def guarantee_reservation(
    reservation_id: str,
    session: SessionDep,
    reach: Annotated[Reach, Depends(guarantee_reach)],
    actor: ActorDep,
) -> ReservationPublic:
    booking = await lifecycle.guarantee(session, reservation_id, reach, actor)
    await session.commit()
    return booking.public()

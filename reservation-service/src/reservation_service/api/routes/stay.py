"""The stay: room assignment and suggestions, check-in, the folio, check-out.

Desk staff (front desk, reservations, manager) at their properties do all of it; a signed-in
guest or the booking's token holder may read the booking's folio. Everyone else: 404 for a
booking they may not reach, 403 for a kind of caller or role refused.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page
from hotel_common.principal import Kind, Principal, require

from reservation_service import assignment, bookings, folio, stay
from reservation_service.access import DESK, ActorDep, Reach, _own, in_properties
from reservation_service.api.contract import (
    CONFIRMED_RESERVATION,
    FORBIDDEN,
    RESERVATION_NOT_FOUND,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.api.deps import SettingsDep
from reservation_service.stay_models import (
    AssignmentPublic,
    AssignRoomRequest,
    ChargeIn,
    CheckedInReservation,
    CheckedOutReservation,
    CheckInRequest,
    Folio,
    PaymentIn,
    RoomSuggestion,
)

router = APIRouter(prefix="/api/v1/reservations", tags=["stay"])

_Desk = Annotated[Principal, Depends(require(*DESK))]
_FolioReader = Annotated[Principal, Depends(require(*DESK, kinds=(Kind.GUEST, Kind.BOOKING)))]


async def desk_reach(principal: _Desk) -> Reach:
    """Front desk work: desk staff, the bookings of their properties."""
    return Reach(in_properties(principal))


async def folio_reach(principal: _FolioReader) -> Reach:
    """Reading a folio: desk staff (their properties), the guest and the booking's token holder
    (their own booking)."""
    if principal.kind in (Kind.GUEST, Kind.BOOKING):
        return Reach(_own(principal))
    return Reach(in_properties(principal))


DeskReach = Annotated[Reach, Depends(desk_reach)]
FolioReach = Annotated[Reach, Depends(folio_reach)]

DESK_ONLY = (
    "Desk staff (front desk, reservations, manager) at their properties; a booking of another "
    "property answers 404, as if it did not exist."
)

ASSIGNMENT = {
    "reservation_id": CONFIRMED_RESERVATION["id"],
    "room_id": 21,
    "room_number": "901",
    "starts_on": "2030-06-01",
    "ends_on": "2030-06-04",
    "assigned_at": "2030-06-01T05:00:00Z",
    "assigned_by": "staff:3",
}
SUGGESTION = {
    "room_id": 21,
    "number": "901",
    "floor": 9,
    "features": ["non-smoking"],
    "housekeeping_status": "inspected",
    "score": 82,
    "reasons": ["non_smoking", "high_floor", "inspected"],
}
DEPOSIT_LINE = {
    "id": 1,
    "kind": "deposit",
    "category": None,
    "night": None,
    "description": "Deposit by card terminal",
    "amount": -50000,
    "currency": "CNY",
    "method": "card_terminal",
    "provider": "offline",
    "provider_reference": "card_terminal:5f1c0e2a9b7d",
    "posted_at": "2030-06-01T06:00:00Z",
    "posted_by": "staff:3",
}
MINIBAR_LINE = DEPOSIT_LINE | {
    "id": 2,
    "kind": "extra",
    "category": "minibar",
    "description": "Minibar",
    "amount": 6800,
    "method": None,
    "provider": None,
    "provider_reference": None,
    "posted_at": "2030-06-02T09:00:00Z",
}
FOLIO = {
    "reservation_id": CONFIRMED_RESERVATION["id"],
    "currency": "CNY",
    "lines": [DEPOSIT_LINE, MINIBAR_LINE],
    "charges_amount": 6800,
    "paid_amount": 50000,
    "deposit_amount": 50000,
    "balance": -43200,
}
CHECKED_IN = CONFIRMED_RESERVATION | {
    "status": "checked_in",
    "checked_in_at": "2030-06-01T06:00:00Z",
    "updated_at": "2030-06-01T06:00:00Z",
    "room_number": "901",
    "deposit_amount": 50000,
}
CHECKED_OUT = CHECKED_IN | {
    "status": "checked_out",
    "checked_out_at": "2030-06-04T03:30:00Z",
    "updated_at": "2030-06-04T03:30:00Z",
    "nights_stayed": 3,
    "amount_spent": 165200,
    "refunded_amount": 50000,
}
CHECK_IN_BODY = {
    "id_verification": {
        "document_type": "passport",
        "issuing_country": "CN",
        "last4": "1234",
        "attested": True,
    },
    "deposit": {"amount": 50000, "method": "card_terminal"},
}


@router.get(
    "/{reservation_id}/room-suggestions",
    response_model=Page[RoomSuggestion],
    summary="Rooms that would suit a booking",
    description="The booking's room type's rooms in service and free for all its nights, best "
    "first: its special requests (non-smoking, accessible, bed type, high floor, quiet room, "
    "crib), the guest's VIP level and the rooms' housekeeping status (inspected, then clean; a "
    "dirty room is last for a guest arriving today); accessible rooms are kept for those who "
    "ask. One page of at most `limit`.\n\n" + DESK_ONLY,
    responses=answers(200, page(SUGGESTION), RESERVATION_NOT_FOUND | UNAUTHENTICATED | FORBIDDEN),
)
async def room_suggestions(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    vip_level: Annotated[int, Query(ge=0, le=5, description="0 (none) to 5")] = 0,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Page[RoomSuggestion]:
    booking = await bookings.load(session, reservation_id, reach)
    found = await assignment.suggestions(session, booking, vip_level, limit)
    return Page(items=[c.public() for c in found], next_cursor=None)


@router.post(
    "/{reservation_id}/assign-room",
    response_model=AssignmentPublic,
    summary="Assign a room to a booking",
    description="Give a confirmed booking a room for all its nights: the one named, or the best "
    "suggestion. A room is never assigned to two overlapping stays (the database refuses the "
    "second: 409 `room_unavailable`). Assigning the room it has changes nothing; another room "
    "replaces it (history line `room_assigned`).\n\n" + DESK_ONLY,
    responses=answers(
        200,
        ASSIGNMENT,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "room_unavailable, no_room_free, room_out_of_order, not_assignable (not "
            "confirmed) or already_checked_in",
            422: f"{VALIDATION}, room_not_for_booking (another type's or property's room)",
        },
    ),
)
async def assign_room(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    actor: ActorDep,
    body: Annotated[
        AssignRoomRequest | None,
        Body(openapi_examples={"named_room": {"value": {"room_id": 21}}}),
    ] = None,
) -> AssignmentPublic:
    data = body or AssignRoomRequest()
    booking = await bookings.load(session, reservation_id, reach, lock=True)
    row, room = await assignment.assign(session, booking, data.room_id, data.vip_level, actor)
    answer = assignment.public(row, room)
    await session.commit()
    return answer


@router.post(
    "/{reservation_id}/check-in",
    response_model=CheckedInReservation,
    summary="Check a guest in",
    description="Check in a confirmed booking from its check-in day (property time): its room "
    "must be assigned and clean or inspected, a member of staff attests the guest's ID (type, "
    "country and at most the last four characters are kept; the caller is recorded as the "
    "verifier), and the deposit (the body's, else the setting `check_in_deposit_amount`; 0: "
    "none) is taken as a folio line. Announces `reservation.checked_in` with the room number. "
    "Checking in a checked-in booking returns it unchanged.\n\n" + DESK_ONLY,
    responses=answers(
        200,
        CHECKED_IN,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "invalid_transition, check_in_too_early, stay_over, room_not_assigned or "
            "room_not_ready",
            422: f"{VALIDATION}, id_not_verified (attested false), unknown_payment_provider",
        },
    ),
)
async def check_in(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    actor: ActorDep,
    settings: SettingsDep,
    body: Annotated[CheckInRequest, Body(openapi_examples={"passport": {"value": CHECK_IN_BODY}})],
) -> CheckedInReservation:
    done = await stay.check_in(session, reservation_id, reach, body, actor, settings)
    await session.commit()
    return CheckedInReservation(
        **done.booking.public().model_dump(),
        room_number=done.room_number,
        deposit_amount=done.deposit_amount,
    )


@router.post(
    "/{reservation_id}/check-out",
    response_model=CheckedOutReservation,
    summary="Check a guest out",
    description="Charge the nights stayed (an early departure: the later nights are released "
    "and not charged, the booking's dates and total become the stay's), the late check-out "
    "fee past the property's check-out time and grace, then settle the folio: what the guest "
    "paid beyond the charges is refunded (the deposit first); a balance still owed is a 409 "
    "`folio_unsettled` naming it (`balance`), nothing written. The room becomes dirty. "
    "Announces `reservation.checked_out` with nights and amount spent. Checking out a "
    "checked-out booking returns it unchanged.\n\n" + DESK_ONLY,
    responses=answers(
        200,
        CHECKED_OUT,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {409: "invalid_transition (not checked in) or folio_unsettled"},
    ),
)
async def check_out(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    actor: ActorDep,
    settings: SettingsDep,
) -> CheckedOutReservation:
    done = await stay.check_out(session, reservation_id, reach, actor, settings)
    await session.commit()
    return CheckedOutReservation(
        **done.booking.public().model_dump(),
        nights_stayed=done.nights,
        amount_spent=done.amount_spent,
        refunded_amount=done.refunded_amount,
    )


@router.get(
    "/{reservation_id}/folio",
    response_model=Folio,
    summary="A booking's folio",
    description="Every line of the booking's folio (room nights and their tax, extras, "
    "payments, deposit, refunds), oldest first, with its balance: the sum of the lines, what "
    "the guest owes (negative: is owed).\n\nDesk staff at their properties; the guest signed in "
    "and the booking's token holder for their own booking. A booking you may not reach answers "
    "404, as if it did not exist.",
    responses=answers(200, FOLIO, RESERVATION_NOT_FOUND | UNAUTHENTICATED | FORBIDDEN),
)
async def get_folio(reservation_id: str, session: SessionDep, reach: FolioReach) -> Folio:
    booking = await bookings.load(session, reservation_id, reach)
    return await folio.folio_of(session, booking)


@router.post(
    "/{reservation_id}/folio/charges",
    status_code=201,
    response_model=Folio,
    summary="Charge an extra to a folio",
    description="Post an extra (minibar, damage, late check-out, restaurant, laundry, other) "
    "on the folio of a checked-in booking; a late check-out without an amount is charged by "
    "the property's rule (setting `late_check_out_percent` of the last night). Answers the "
    "folio. Send an `Idempotency-Key` header: a retry with it posts once.\n\n" + DESK_ONLY,
    responses=answers(
        201,
        FOLIO,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "folio_closed (not checked in) or no_late_check_out_fee",
            422: f"{VALIDATION}, amount_required",
        },
    ),
)
async def post_charge(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    actor: ActorDep,
    settings: SettingsDep,
    body: Annotated[
        ChargeIn,
        Body(openapi_examples={"minibar": {"value": {"category": "minibar", "amount": 6800}}}),
    ],
) -> Folio:
    booking = await bookings.load(session, reservation_id, reach, lock=True)
    await folio.post_charge(session, booking, body, actor, settings)
    answer = await folio.folio_of(session, booking)
    await session.commit()
    return answer


@router.post(
    "/{reservation_id}/folio/payments",
    status_code=201,
    response_model=Folio,
    summary="Take a payment on a folio",
    description="Take a payment through a provider (`offline`: cash or the card terminal at "
    "the desk, attested by the caller) on a confirmed or checked-in booking, in the booking's "
    "currency. Answers the folio. Send an `Idempotency-Key` header: a retry with it pays "
    "once.\n\n" + DESK_ONLY,
    responses=answers(
        201,
        FOLIO,
        RESERVATION_NOT_FOUND
        | UNAUTHENTICATED
        | FORBIDDEN
        | {
            409: "folio_closed (neither confirmed nor checked in)",
            422: f"{VALIDATION}, currency_mismatch, unknown_payment_provider, "
            "payment_method_not_supported, folio_amount_too_large (the folio would hold more "
            "than 2147483647 minor units)",
        },
    ),
)
async def take_payment(
    reservation_id: str,
    session: SessionDep,
    reach: DeskReach,
    actor: ActorDep,
    body: Annotated[
        PaymentIn,
        Body(openapi_examples={"cash": {"value": {"amount": 115200, "method": "cash"}}}),
    ],
) -> Folio:
    booking = await bookings.load(session, reservation_id, reach, lock=True)
    await folio.take_payment(session, booking, body, actor)
    answer = await folio.folio_of(session, booking)
    await session.commit()
    return answer

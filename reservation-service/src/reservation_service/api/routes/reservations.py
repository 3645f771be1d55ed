from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Cursor, Limit, Page

from reservation_service import bookings, lifecycle
from reservation_service.api.deps import SettingsDep
from reservation_service.models import (
    CancelRequest,
    ReservationCreate,
    ReservationPublic,
    ReservationStatus,
)

router = APIRouter(prefix="/api/v1/reservations", tags=["reservations"])


@router.post(
    "",
    status_code=201,
    response_model=ReservationPublic,
    responses=problems(
        {
            409: "no_property, or request_in_progress (same Idempotency-Key still running)",
            422: "validation_error, unknown_room_type, too_many_guests, too_many_passengers, "
            "check_out_not_after_check_in, stay_too_long, check_in_in_past, "
            "idempotency_key_reused, unknown_property or property_required",
        }
    ),
)
async def create_reservation(
    data: ReservationCreate,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> ReservationPublic:
    """Take a booking request: priced and numbered, status `requested`, no room held yet.

    Send an `Idempotency-Key` header: a retry with the same key and body returns the first answer.
    """
    booking = await bookings.request_booking(session, data, settings.max_stay_nights)
    response.headers["Location"] = request.app.url_path_for(
        "get_reservation", reservation_id=booking.reservation.id
    )
    return booking.public()


@router.get("", response_model=Page[ReservationPublic])
async def list_reservations(
    session: SessionDep,
    status: ReservationStatus | None = None,
    confirmation_number: str | None = None,
    email: str | None = None,
    check_in_from: date | None = None,
    check_in_to: date | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReservationPublic]:
    """Bookings, newest first."""
    rows, next_cursor = await bookings.list_bookings(
        session,
        status=status,
        confirmation_number=confirmation_number,
        email=email,
        check_in_from=check_in_from,
        check_in_to=check_in_to,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=rows, next_cursor=next_cursor)


@router.get(
    "/{reservation_id}",
    response_model=ReservationPublic,
    responses=problems({404: "reservation_not_found"}),
)
async def get_reservation(reservation_id: str, session: SessionDep) -> ReservationPublic:
    return (await bookings.load(session, reservation_id)).public()


@router.post(
    "/{reservation_id}/confirm",
    response_model=ReservationPublic,
    responses=problems(
        {
            404: "reservation_not_found",
            409: "no_availability (the booking stays requested) or reservation_cancelled",
        }
    ),
)
async def confirm_reservation(
    reservation_id: str, session: SessionDep, runtime: RuntimeDep
) -> ReservationPublic:
    """Hold a room for every night and confirm; announces `reservation.confirmed` once.

    Confirming a confirmed booking returns it unchanged.
    """
    booking = await lifecycle.confirm(session, reservation_id, runtime.settings.service_name)
    return booking.public()


@router.post(
    "/{reservation_id}/cancel",
    response_model=ReservationPublic,
    responses=problems({404: "reservation_not_found"}),
)
async def cancel_reservation(
    reservation_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> ReservationPublic:
    """Cancel a requested or confirmed booking, releasing its rooms; announces
    `reservation.cancelled` once. Cancelling a cancelled booking returns it unchanged.
    """
    reason = body.reason if body else None
    booking = await lifecycle.cancel(session, reservation_id, reason, runtime.settings.service_name)
    return booking.public()

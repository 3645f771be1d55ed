from typing import Annotated

from fastapi import APIRouter, Body, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep
from hotel_common.time import IsoDate

from reservation_service import out_of_order
from reservation_service.access import ROOM_READERS
from reservation_service.api.contract import (
    FORBIDDEN,
    INVALID_CURSOR,
    UNAUTHENTICATED,
    VALIDATION,
    page,
)
from reservation_service.models import OutOfOrderCreate, OutOfOrderPublic

router = APIRouter(prefix="/api/v1/out-of-order-periods", tags=["catalog"])

NEW_PERIOD = {
    "room_id": 7,
    "from_date": "2027-03-01",
    "to_date": "2027-03-04",
    "reason": "Bathroom leak: plumber booked",
}
PERIOD = {
    "id": 3,
    **NEW_PERIOD,
    "room_number": "0701",
    "room_type_code": "KNG",
    "property_id": 1,
    "created_by": "staff:4",
    "created_at": "2027-02-20T09:15:00Z",
    "ended_by": None,
    "ended_at": None,
    "held_beyond_rooms": [],
}
NOT_FOUND = {404: "out_of_order_not_found: no such period, or not at one of your properties"}


@router.post(
    "",
    status_code=201,
    response_model=OutOfOrderPublic,
    summary="Take a room out of order for a range of nights",
    responses=answers(
        201,
        PERIOD,
        UNAUTHENTICATED
        | FORBIDDEN
        | {
            404: "room_not_found",
            409: "out_of_order_overlaps (the room already has a period on one of the nights)",
            422: f"{VALIDATION}, to_date_not_after_from_date, from_date_in_past or period_too_long",
        },
    ),
)
async def create_period(
    data: Annotated[OutOfOrderCreate, Body(openapi_examples={"leak": {"value": NEW_PERIOD}})],
    session: SessionDep,
    principal: ROOM_READERS,
) -> OutOfOrderPublic:
    """The room is not sold on the nights from `from_date` to before `to_date` (property
    time); the nights around them sell as usual. Allowed on nights already sold: the answer's
    `held_beyond_rooms` names the nights on which the room type has more bookings than rooms in
    service, to move. Desk staff and housekeeping, at their properties."""
    period = await out_of_order.create(session, principal, data)
    await session.commit()
    return period


@router.get(
    "",
    response_model=Page[OutOfOrderPublic],
    summary="List out-of-order periods",
    responses=answers(200, page(PERIOD), INVALID_CURSOR | UNAUTHENTICATED | FORBIDDEN),
)
async def list_periods(
    session: SessionDep,
    paging: PagingDep,
    principal: ROOM_READERS,
    property_id: Annotated[RowId | None, Query(description="Only this property's")] = None,
    room_id: Annotated[RowId | None, Query(description="Only this room's")] = None,
    from_date: Annotated[
        IsoDate | None, Query(alias="from", description="Only periods covering a night from")
    ] = None,
    to_date: Annotated[
        IsoDate | None, Query(alias="to", description="... to before this date")
    ] = None,
) -> Page[OutOfOrderPublic]:
    """The periods of your properties, oldest first, ended ones included (with who ended them
    and when). Desk staff and housekeeping."""
    return await out_of_order.listed(
        session,
        principal,
        paging,
        property_id=property_id,
        room_id=room_id,
        on_or_after=from_date,
        before=to_date,
    )


@router.post(
    "/{period_id}/end",
    response_model=OutOfOrderPublic,
    summary="End an out-of-order period",
    responses=answers(200, PERIOD, UNAUTHENTICATED | FORBIDDEN | NOT_FOUND),
)
async def end_period(
    period_id: RowId, session: SessionDep, principal: ROOM_READERS
) -> OutOfOrderPublic:
    """The room sells again from tonight (a period not yet begun is cancelled: it ends where
    it began). A period already ended or over answers 200 unchanged. Desk staff and
    housekeeping, at their properties."""
    period = await out_of_order.end(session, principal, period_id)
    await session.commit()
    return period

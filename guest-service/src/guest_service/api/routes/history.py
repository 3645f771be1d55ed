"""A guest's stay history and value (`GET /api/v1/guests/{id}/history`): desk staff and
marketing read it, like the profile (guest_service.access)."""

from typing import Any

from fastapi import APIRouter, Request
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems

from guest_service import access, history, profiles

router = APIRouter(prefix="/api/v1/guests", tags=["guests"])

EXAMPLE: dict[str, Any] = {
    "guest_id": "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
    "summary": {
        "stays": 3,
        "nights": 7,
        "spend_cny": "12840.00",
        "upcoming": 1,
        "cancellations": 1,
        "no_shows": 0,
        "transfers": 2,
        "feedback": 1,
        "first_stay_on": "2029-03-02",
        "last_stay_on": "2030-04-12",
        "channels": {"direct_web": 2, "ctrip": 1},
    },
    "value": {
        "last_stay_on": "2030-04-12",
        "stays": 3,
        "nights": 7,
        "spend_cny": 12840,
        "lifetime_stays": 3,
        "lifetime_spend_cny": 12840,
        "recency": 3,
        "frequency": 2,
        "monetary": 3,
        "value_class": "key",
        "tier": "silver",
        "refreshed_at": "2030-05-20T09:00:00Z",
    },
    "stays": [
        {
            "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
            "confirmation_number": "HV-7K3Q9D",
            "property_name": "Bund Garden Hotel",
            "room_type_code": "KNG",
            "check_in": "2030-04-10",
            "check_out": "2030-04-12",
            "status": "checked_out",
            "nights": 2,
            "total_amount": 158000,
            "amount_spent": 171200,
            "currency": "CNY",
            "spend_cny": "1712.00",
            "channel": "direct_web",
            "source": "web",
            "transfers": 1,
        }
    ],
}


@router.get(
    "/{guest_id}/history",
    summary="A guest's stay history and value",
    dependencies=[access.may_read],
    responses={
        200: example(EXAMPLE),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: desk staff and marketing only",
                404: "guest_not_found: no profile with this id",
            }
        ),
    },
)
async def get_guest_history(
    session: SessionDep, request: Request, guest_id: str
) -> history.GuestHistory:
    """Every stay (newest first) with its channel, nights, spend (also in yuan) and rides; the
    totals (completed stays, nights, spend, cancellations, no-shows, transfers, feedback); and
    the guest's RFM levels and value class (docs/domain.md, Value)."""
    await profiles.get_guest(session, guest_id)
    return await history.history_of(session, guest_id, request.app.state.settings.fx_to_cny)

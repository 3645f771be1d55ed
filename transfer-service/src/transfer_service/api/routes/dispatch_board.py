"""The dispatch board: the day's jobs by time, for dispatchers, managers and the front desk."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import Role, require
from hotel_common.time import IsoDate

from transfer_service import board
from transfer_service.board import TransferBoard

router = APIRouter(prefix="/api/v1/dispatch-board", tags=["dispatch"])

EXAMPLE: dict[str, Any] = {
    "date": "2030-06-01",
    "jobs": [
        {
            "id": "6f1c2a9e-3b7d-4e0a-9c51-2d8e4f7a1b3c",
            "kind": "arrival_pickup",
            "status": "assigned",
            "pickup_time": "2030-06-01T10:00:00Z",
            "driver_on_site_at": "2030-06-01T09:30:00Z",
            "ends_at": "2030-06-01T11:00:00Z",
            "guest_name": "Lin Mei",
            "confirmation_number": "HV-7K3Q9D",
            "flight_number": "MU5101",
            "transport": "domestic_flight",
            "flight_time": "2030-06-01T10:00:00Z",
            "pickup_place": "Shanghai Hongqiao T2, arrivals exit 5",
            "destination": "Bund Garden Hotel",
            "passengers": 2,
            "luggage": 1,
            "child_seats": 0,
            "wheelchair": False,
            "language": None,
            "sign_name": "LIN MEI",
            "ride_id": None,
            "vehicle": {
                "id": 3,
                "plate": "沪A·D1234",
                "description": "Toyota Alphard (black)",
                "vehicle_class": "van",
            },
            "driver": {"id": 7, "name": "Wang Lei", "phone": "+8613800138000"},
            "flags": [],
            "uncovered_reason": None,
        }
    ],
    "counts": {
        "total": 1,
        "by_status": {"assigned": 1},
        "uncovered": 0,
        "flagged": 0,
        "escalated": 0,
    },
}


@router.get(
    "",
    response_model=TransferBoard,
    summary="The day's dispatch board",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER, Role.FRONT_DESK))],
    responses={
        200: example(EXAMPLE),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: dispatchers, managers and the front desk only",
            }
        ),
    },
)
async def get_dispatch_board(
    session: SessionDep,
    day: Annotated[
        IsoDate, Query(alias="date", description="Pickup date in the property's time zone")
    ],
    cancelled: Annotated[bool, Query(description="Also list the day's cancelled jobs")] = False,
) -> TransferBoard:
    """Every job picking up that local day, in pickup order, with vehicle, driver, status,
    flags and why an uncovered job has no crew; plus the day's counts (by status, uncovered,
    flagged, escalated). Cancelled jobs are counted but listed only with `cancelled=true`."""
    return await board.board(session, day, cancelled=cancelled)

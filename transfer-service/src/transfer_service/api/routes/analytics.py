"""Transfer quality over a period, for managers."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import Role, require
from hotel_common.time import IsoDate

from transfer_service import analytics
from transfer_service.analytics import TransferAnalytics

router = APIRouter(prefix="/api/v1/analytics/transfers", tags=["analytics"])

EXAMPLE: dict[str, Any] = {
    "from": "2030-06-01",
    "to": "2030-06-30",
    "jobs": 412,
    "by_status": {"completed": 398, "no_show": 4, "cancelled": 10},
    "on_time": {"measured": 402, "on_time": 391, "rate": 0.9726},
    "guest_wait": {"measured": 398, "average_minutes": 6.4},
    "vehicles": [
        {
            "vehicle_id": 3,
            "plate": "沪A·D1234",
            "jobs": 61,
            "busy_minutes": 11890,
            "driven_minutes": 9020,
            "available_minutes": 43200,
            "utilisation": 0.2752,
        }
    ],
    "drivers": [
        {
            "driver_id": 7,
            "name": "Wang Lei",
            "jobs": 58,
            "completed": 56,
            "no_show": 1,
            "busy_minutes": 11200,
            "driven_minutes": 8500,
            "available_minutes": 18000,
            "utilisation": 0.6222,
        }
    ],
}


@router.get(
    "",
    response_model=TransferAnalytics,
    response_model_by_alias=True,
    summary="Transfer analytics",
    dependencies=[Depends(require(Role.MANAGER))],
    responses={
        200: example(EXAMPLE),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: managers only",
                422: "invalid_period or period_too_long: `to` before `from`, over 366 days",
            }
        ),
    },
)
async def transfer_analytics(
    session: SessionDep,
    date_from: Annotated[IsoDate, Query(alias="from", description="First pickup date")],
    date_to: Annotated[IsoDate, Query(alias="to", description="Last pickup date (inclusive)")],
) -> TransferAnalytics:
    """On-time rate (the driver on site no later than the pickup time, over jobs whose arrival
    on site was recorded), average guest wait (boarding minus pickup time, floor 0),
    utilisation per vehicle (busy / whole days) and per driver (busy / shift minutes), jobs per
    driver. Periods of local pickup dates, both ends included, at most 366 days."""
    return await analytics.transfers(session, date_from, date_to)

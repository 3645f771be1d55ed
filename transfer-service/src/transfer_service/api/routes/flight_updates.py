"""A flight's (or train's) new time or cancellation, from a flight-status feed or dispatch.
Rules: transfer_service.flights."""

from typing import Any

from fastapi import APIRouter, Depends
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import PrincipalDep, Role, require

from transfer_service import audit, flights
from transfer_service.api.common import SettingsDep
from transfer_service.models import FlightUpdateCreate, FlightUpdateOutcome

router = APIRouter(prefix="/api/v1/flight-updates", tags=["flight updates"])
EXAMPLE: dict[str, Any] = {
    "id": 9,
    "flight_number": "MU5101",
    "flight_date": "2030-06-01",
    "new_time": "2030-06-01T05:00:00Z",
    "status": "delayed",
    "jobs_affected": 2,
    "rescheduled": ["6f1c2a9e-…", "0b9e3c5d-…"],
    "cancelled": [],
    "uncovered": [],
}


@router.post(
    "",
    response_model=FlightUpdateOutcome,
    summary="Report a flight's new time or its cancellation",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
    responses={
        200: example(EXAMPLE),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: dispatchers and managers (a feed signs in as a dispatcher)",
            }
        ),
    },
)
async def create_flight_update(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, body: FlightUpdateCreate
) -> FlightUpdateOutcome:
    """By flight number and scheduled local date: every job of that flight not yet under way is
    re-timed by as much as the flight moved, its crew kept if still valid for the new time,
    else replaced; each guest is told (`transfer.rescheduled`). A cancelled flight calls its
    jobs off. An update matching no job is recorded all the same (`jobs_affected` 0)."""
    outcome = await flights.report(session, settings, body, audit.actor_of(principal))
    await session.commit()
    return outcome

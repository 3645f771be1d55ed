"""Incidents: a vehicle broken down, a driver unavailable; their jobs are reassigned at once.
Rules: transfer_service.incidents."""

from typing import Any, Literal

from fastapi import APIRouter, Depends
from hotel_common.bounds import RowId
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep, Role, require

from transfer_service import audit, incidents
from transfer_service.api.common import SettingsDep
from transfer_service.models import IncidentCreate, IncidentOutcome, IncidentPublic

router = APIRouter(
    prefix="/api/v1/incidents",
    tags=["incidents"],
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
)
EXAMPLE: dict[str, Any] = {
    "id": 4,
    "kind": "vehicle_breakdown",
    "vehicle_id": 3,
    "driver_id": None,
    "starts_at": "2030-06-01T06:10:00Z",
    "ends_at": None,
    "description": "Engine warning light on the G2 ring road",
    "reported_by": "staff:12",
    "status": "open",
    "created_at": "2030-06-01T06:12:00Z",
    "resolved_at": None,
}
REFUSALS = {
    401: "unauthenticated: no signed-in caller",
    403: "forbidden: dispatchers and managers only",
}


@router.post(
    "",
    status_code=201,
    response_model=IncidentOutcome,
    summary="Report a vehicle breakdown or a driver unavailable",
    responses={
        201: example(
            {"incident": EXAMPLE, "reassigned": ["6f1c2a9e-…"], "escalated": []}, "Reported"
        ),
        **problems(
            {
                **REFUSALS,
                404: "vehicle_not_found, driver_not_found",
                409: "incident_overlaps: an open incident of that vehicle or driver meets the "
                "period (the same breakdown reported twice)",
                422: "invalid_period",
            }
        ),
    },
)
async def create_incident(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, body: IncidentCreate
) -> IncidentOutcome:
    """From `starts_at` (default now) until `ends_at` (default: until resolved), the vehicle or
    driver takes no job. Every job of theirs not yet with the guest on board and meeting that
    period gets another crew at once, its guest told (`transfer.reassigned`); a job nobody can
    take is flagged `uncovered` and `escalated` on the board. Reported twice (an open incident
    of the vehicle or driver meets the period): 409 `incident_overlaps`, nothing written."""
    outcome = await incidents.report(session, settings, body, audit.actor_of(principal))
    await session.commit()
    return outcome


@router.get(
    "",
    response_model=Page[IncidentPublic],
    summary="List incidents",
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **REFUSALS}),
    },
)
async def list_incidents(
    session: SessionDep,
    paging: PagingDep,
    status: Literal["open", "resolved"] | None = None,
    vehicle_id: RowId | None = None,
    driver_id: RowId | None = None,
) -> Page[IncidentPublic]:
    """Incidents in the order reported; filter by status, vehicle or driver."""
    return await incidents.list_incidents(
        session, paging, status=status, vehicle_id=vehicle_id, driver_id=driver_id
    )


@router.get(
    "/{incident_id}",
    response_model=IncidentPublic,
    summary="Get one incident",
    responses={200: example(EXAMPLE), **problems({**REFUSALS, 404: "incident_not_found"})},
)
async def get_incident(session: SessionDep, incident_id: RowId) -> IncidentPublic:
    """One incident, open or resolved."""
    return await incidents.get(session, incident_id)


@router.post(
    "/{incident_id}/resolve",
    response_model=IncidentPublic,
    summary="Resolve an incident",
    responses={
        200: example(EXAMPLE | {"status": "resolved", "resolved_at": "2030-06-01T09:00:00Z"}),
        **problems({**REFUSALS, 404: "incident_not_found", 409: "incident_resolved"}),
    },
)
async def resolve_incident(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, incident_id: RowId
) -> IncidentPublic:
    """The vehicle or driver is back: assignable again, and the uncovered jobs are retried."""
    resolved = await incidents.resolve(session, settings, incident_id, audit.actor_of(principal))
    await session.commit()
    return resolved

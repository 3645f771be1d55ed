"""Dispatcher actions on one job: assign a crew, swap crews, unassign, cancel; and the job's
audit trail. Checks, locks and events: transfer_service.dispatch."""

from typing import Any

from fastapi import APIRouter, Depends
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.principal import PrincipalDep, Role, require

from transfer_service import audit, dispatch, jobs
from transfer_service.api.common import (
    DISPATCHERS,
    READERS,
    UNAUTHENTICATED,
    FleetReader,
    SettingsDep,
)
from transfer_service.api.routes.transfers import EXAMPLE
from transfer_service.models import (
    AuditLine,
    Cancellation,
    CrewAssignment,
    CrewSwap,
    TransferPublic,
    Unassignment,
)

router = APIRouter(prefix="/api/v1/transfers", tags=["dispatch"])
DISPATCH_ONLY = [Depends(require(Role.DISPATCHER))]
REFUSALS = {
    **UNAUTHENTICATED,
    **DISPATCHERS,
    404: "transfer_not_found, vehicle_not_found, driver_not_found",
}
CREW_REFUSALS = (
    "invalid_state (the job's status does not allow it), pickup_past, vehicle_out_of_service, "
    "vehicle_does_not_fit, vehicle_in_maintenance, vehicle_incident, vehicle_busy, "
    "driver_inactive, licence_expired, no_language, driver_off_shift, driver_incident, "
    "driver_busy, driver_limit"
)
AUDIT_EXAMPLE: dict[str, Any] = {
    "at": "2030-06-01T08:02:11Z",
    "actor": "staff:12",
    "action": "assigned",
    "detail": {"vehicle_id": 3, "driver_id": 7, "previous_vehicle_id": None},
}


@router.post(
    "/{transfer_id}/assign",
    response_model=TransferPublic,
    summary="Assign a vehicle and a driver to a job",
    dependencies=DISPATCH_ONLY,
    responses={200: example(EXAMPLE), **problems({**REFUSALS, 409: CREW_REFUSALS})},
)
async def assign_transfer(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    transfer_id: str,
    body: CrewAssignment,
) -> TransferPublic:
    """Give a requested job (or an assigned one, changing its crew) the named vehicle and
    driver, with the checks automatic assignment makes: the vehicle fits and is free, not in
    maintenance or under an incident; the driver is active, licensed on the day, on shift for
    the whole crew window, free, within the daily driving limit. The guest is told
    (`transfer.assigned`, or `transfer.reassigned` for a change of crew)."""
    actor = audit.actor_of(principal)
    await dispatch.assign_crew(
        session, settings, transfer_id, body.vehicle_id, body.driver_id, actor
    )
    await session.commit()
    return await jobs.get_job(session, transfer_id)


@router.post(
    "/{transfer_id}/swap",
    response_model=TransferPublic,
    summary="Swap crews between two jobs, or replace a job's driver or vehicle",
    dependencies=DISPATCH_ONLY,
    responses={
        200: example(EXAMPLE),
        **problems({**REFUSALS, 409: CREW_REFUSALS, 422: "same_transfer, validation"}),
    },
)
async def swap_transfer_crew(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    transfer_id: str,
    body: CrewSwap,
) -> TransferPublic:
    """With `with_transfer_id`: the two assigned jobs exchange vehicle and driver (each crew
    checked for the other job). With `vehicle_id` and/or `driver_id`: this assigned job gets
    them, the other member kept. Each guest is told (`transfer.reassigned`). Answers this job."""
    await dispatch.swap(
        session,
        settings,
        transfer_id,
        with_transfer_id=body.with_transfer_id,
        vehicle_id=body.vehicle_id,
        driver_id=body.driver_id,
        actor=audit.actor_of(principal),
    )
    await session.commit()
    return await jobs.get_job(session, transfer_id)


@router.post(
    "/{transfer_id}/unassign",
    response_model=TransferPublic,
    summary="Take the crew off a job",
    dependencies=DISPATCH_ONLY,
    responses={
        200: example(EXAMPLE | {"status": "requested", "vehicle": None, "driver": None}),
        **problems({**REFUSALS, 409: "invalid_state: only an assigned job"}),
    },
)
async def unassign_transfer(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    transfer_id: str,
    body: Unassignment | None = None,
) -> TransferPublic:
    """Back to `requested`, flagged `uncovered` (reason `unassigned`); the crew is free for
    other jobs. Published as `transfer.status_changed`."""
    reason = body.reason if body else None
    await dispatch.unassign(session, settings, transfer_id, reason, audit.actor_of(principal))
    await session.commit()
    return await jobs.get_job(session, transfer_id)


@router.post(
    "/{transfer_id}/cancel",
    response_model=TransferPublic,
    summary="Cancel a job",
    dependencies=DISPATCH_ONLY,
    responses={
        200: example(EXAMPLE | {"status": "cancelled", "cancel_reason": "guest took a taxi"}),
        **problems({**REFUSALS, 409: "invalid_state: the guest is on board, or it is over"}),
    },
)
async def cancel_transfer(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    transfer_id: str,
    body: Cancellation,
) -> TransferPublic:
    """Call a job off, with a reason, until the guest is on board; its crew is free (the day's
    uncovered jobs are retried). Published as `transfer.status_changed` (and
    `transfer.cancelled` for a booking's job)."""
    await dispatch.cancel(session, settings, transfer_id, body.reason, audit.actor_of(principal))
    await session.commit()
    return await jobs.get_job(session, transfer_id)


@router.get(
    "/{transfer_id}/audit",
    response_model=list[AuditLine],
    summary="A job's audit trail",
    dependencies=[FleetReader],
    responses={
        200: example([AUDIT_EXAMPLE]),
        **problems({**REFUSALS, **READERS}),
    },
)
async def get_transfer_audit(session: SessionDep, transfer_id: str) -> list[AuditLine]:
    """Every change of the job, oldest first: who (a staff subject, a driver, `system` for a
    handler or worker), what, when, and the details (crews before and after, reasons)."""
    lines = await dispatch.trail(session, transfer_id)
    return [AuditLine.model_validate(line, from_attributes=True) for line in lines]

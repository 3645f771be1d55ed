"""Transfer jobs as dispatch, the front desk, drivers and guests see them, with vehicle and
driver; drivers (and dispatch) report a job's progress. Who sees which job: `access`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from hotel_common.bounds import RowId
from hotel_common.contract import example
from hotel_common.deps import SessionDep, get_settings
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep
from hotel_common.time import IsoDate

from transfer_service import access, adhoc, audit, jobs, live
from transfer_service.adhoc import TransferCreate
from transfer_service.api.common import SettingsDep
from transfer_service.config import Settings
from transfer_service.models import ProgressUpdate, TransferPublic, TransferStatus

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])

EXAMPLE: dict[str, Any] = {
    "id": "6f1c2a9e-3b7d-4e0a-9c51-2d8e4f7a1b3c",
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "confirmation_number": "HV-7K3Q9D",
    "kind": "arrival_pickup",
    "status": "assigned",
    "guest": {
        "name": "Lin Mei",
        "email": "lin.mei@example.com",
        "phone": "+8613900139000",
        "language": "zh-Hans",
    },
    "flight_number": "MU5101",
    "pickup_place": "Shanghai Hongqiao T2, arrivals exit 5",
    "destination": "Bund Garden Hotel",
    "pickup_time": "2030-06-01T10:00:00Z",
    "driver_on_site_at": "2030-06-01T09:30:00Z",
    "ends_at": "2030-06-01T11:00:00Z",
    "pickup_date": "2030-06-01",
    "property_timezone": "Asia/Shanghai",
    "passengers": 2,
    "luggage": 1,
    "vehicle": {
        "id": 3,
        "plate": "沪A·D1234",
        "description": "Toyota Alphard (black)",
        "vehicle_class": "van",
    },
    "driver": {"id": 7, "name": "Wang Lei", "phone": "+8613800138000"},
    "cancel_reason": None,
    "created_at": "2030-05-20T08:15:00Z",
    "updated_at": "2030-05-20T08:15:02Z",
}
READ_REFUSALS = {
    401: "unauthenticated: no signed-in caller",
    403: "forbidden: housekeeping, marketing, reservations and partners do not see transfers",
}


@router.get(
    "",
    response_model=Page[TransferPublic],
    summary="List transfer jobs",
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **READ_REFUSALS}),
    },
)
async def list_transfers(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    reservation_id: Annotated[str | None, Query(max_length=64)] = None,
    status: TransferStatus | None = None,
    pickup_date: Annotated[
        IsoDate | None,
        Query(alias="date", description="Pickup date in the property's time zone."),
    ] = None,
    driver_id: RowId | None = None,
) -> Page[TransferPublic]:
    """Jobs in pickup order; `status=requested` lists those waiting for dispatch.

    Dispatchers, the front desk and managers see every job; a driver only the jobs assigned to
    them; a signed-in guest the jobs booked under their email (or phone); a booking holder the
    job of its booking. Filters narrow what the caller sees, never widen it.
    """
    return await jobs.list_jobs(
        session,
        paging,
        visible=access.jobs_visible_to(principal),
        reservation_id=reservation_id,
        status=status,
        pickup_date=pickup_date,
        driver_id=driver_id,
    )


@router.get(
    "/{transfer_id}",
    response_model=TransferPublic,
    summary="Get one transfer job",
    responses={
        200: example(EXAMPLE),
        **problems({**READ_REFUSALS, 404: "transfer_not_found: no such job, or not yours"}),
    },
)
async def get_transfer(
    session: SessionDep, principal: PrincipalDep, transfer_id: str
) -> TransferPublic:
    """One job with its vehicle and driver, to whoever may list it (see List transfer jobs);
    a job the caller may not see is a 404, as if it did not exist."""
    return await jobs.get_job(session, transfer_id, access.jobs_visible_to(principal))


@router.post(
    "/{transfer_id}/progress",
    response_model=TransferPublic,
    summary="Report a job's progress",
    responses={
        200: example(EXAMPLE | {"status": "driver_on_site"}),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: only drivers and dispatchers report progress",
                404: "transfer_not_found: no such job, or (for a driver) not assigned to you",
                409: "invalid_transition: the job is not in the state just before this one",
            }
        ),
    },
)
async def report_transfer_progress(
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings)],
    principal: PrincipalDep,
    transfer_id: str,
    body: ProgressUpdate,
) -> TransferPublic:
    """Move a job one step forward: assigned (or en_route) -> driver_on_site -> in_progress ->
    completed.

    The driver assigned to the job, or a dispatcher. Steps cannot be skipped or undone, and a
    cancelled or unassigned job does not move: 409 `invalid_transition` with the job's
    `current_status`. Answers the job as it now is.
    """
    # The same code as the live steps (POST .../on-site, /on-board, /complete).
    visible = access.progress_jobs_of(principal)
    step = live.FROM_PROGRESS[body.status]
    await live.report(session, settings, transfer_id, step, visible, audit.actor_of(principal))
    await session.commit()
    return await jobs.get_job(session, transfer_id)


AD_HOC_EXAMPLE: dict[str, Any] = {
    "guest": {"name": "Lin Mei", "email": "lin.mei@example.com", "language": "zh-Hans"},
    "pickup_place": "Bund Garden Hotel",
    "destination": "Shanghai Hongqiao Railway Station",
    "pickup_time": "2030-06-01T08:00:00+08:00",
    "passengers": 2,
    "luggage": 2,
    "transport": "train",
    "flight_number": "G7",
}


@router.post(
    "",
    response_model=TransferPublic,
    status_code=201,
    summary="Order an ad-hoc transfer",
    openapi_extra={"requestBody": {"content": {"application/json": {"example": AD_HOC_EXAMPLE}}}},
    responses={
        201: example(EXAMPLE | {"kind": "ad_hoc", "reservation_id": None, "source": "staff"}),
        **problems(
            {
                401: "unauthenticated: no signed-in caller",
                403: "forbidden: only dispatch, the front desk, managers and signed-in guests",
                422: "pickup_past, pickup_too_far, same_place, too_many_passengers, "
                "guest_email_required, or an invalid or unknown field",
            }
        ),
    },
)
async def create_transfer(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    body: TransferCreate,
    response: Response,
) -> TransferPublic:
    """A ride between any two places outside a booking, assigned at once when a vehicle and a
    driver may take it (else `requested` with its `uncovered_reason`, retried automatically).

    Dispatchers, the front desk and managers order for any guest (`guest.email` required); a
    signed-in guest orders for themselves (the job carries the address they signed in with).
    Refused with nothing written: a pickup time already past (422 `pickup_past`) or more than
    3660 days ahead (422 `pickup_too_far`), a destination that is the pickup place (422
    `same_place`), more passengers than any vehicle seats (422 `too_many_passengers`), an
    unknown field (422).
    Send an `Idempotency-Key` header: a retry with it orders once."""
    job = await adhoc.create(session, body, principal, settings)
    await session.commit()
    response.headers["Location"] = f"/api/v1/transfers/{job.id}"
    return await jobs.get_job(session, job.id)

"""Drivers: dispatch and managers list them; managers register and change them and plan their
dated shifts."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.pagination import Page, PagingDep

from transfer_service import fleet
from transfer_service.api.common import (
    MANAGERS,
    READERS,
    UNAUTHENTICATED,
    VALIDATION,
    FleetReader,
    Manager,
    SettingsDep,
    listing,
)
from transfer_service.models import (
    DriverCreate,
    DriverPublic,
    DriverStatus,
    DriverUpdate,
    ShiftCreate,
    ShiftPublic,
)

router = APIRouter(prefix="/api/v1/drivers", tags=["drivers"])

EXAMPLE: dict[str, Any] = {
    "id": 7,
    "name": "Wang Lei",
    "phone": "+8613800138000",
    "licence_number": "SH-DL-000123",
    "status": "active",
    "languages": ["zh-Hans", "en"],
    "licence_expires_on": "2033-04-30",
    "shift_start": "06:00:00",
    "shift_end": "18:00:00",
    "daily_driving_limit_minutes": 540,
    "min_rest_minutes": 660,
    "created_at": "2030-05-01T02:00:00Z",
}
SHIFT: dict[str, Any] = {
    "id": 12,
    "driver_id": 7,
    "starts_at": "2030-06-01T14:00:00Z",
    "ends_at": "2030-06-01T22:00:00Z",
    "created_at": "2030-05-25T08:00:00Z",
}
NOT_FOUND = {404: "driver_not_found"}
SHIFT_RULES = "shift_incomplete or shift_empty (the standing shift's start and end)"


@router.get(
    "",
    response_model=Page[DriverPublic],
    summary="List drivers",
    dependencies=[FleetReader],
    responses=listing(EXAMPLE),
)
async def list_drivers(
    session: SessionDep, paging: PagingDep, status: DriverStatus | None = None
) -> Page[DriverPublic]:
    """Drivers in registration order, for dispatchers and managers."""
    return await fleet.list_drivers(session, paging, status)


@router.post(
    "",
    status_code=201,
    response_model=DriverPublic,
    summary="Register a driver",
    dependencies=[Manager],
    responses=answers(
        201,
        EXAMPLE,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            409: "driver_licence_taken: a driver with this licence number exists",
            422: f"{VALIDATION}, licence_expired, {SHIFT_RULES}",
        },
        description="Registered",
    ),
)
async def create_driver(
    session: SessionDep, settings: SettingsDep, body: DriverCreate
) -> DriverPublic:
    """Add a driver to the pool dispatch assigns from (managers). The licence's expiry date is
    required and not past. The phone is stored in E.164; it is given to the guests the driver
    picks up. Jobs waiting for a driver are tried again."""
    driver = await fleet.register_driver(session, body)
    await fleet.changed(session, settings)
    await session.commit()
    return driver


@router.get(
    "/{driver_id}",
    response_model=DriverPublic,
    summary="Get a driver",
    dependencies=[FleetReader],
    responses=answers(200, EXAMPLE, {**UNAUTHENTICATED, **READERS, **NOT_FOUND}),
)
async def get_driver(driver_id: RowId, session: SessionDep) -> DriverPublic:
    """One driver with licence, standing shift and limits, for dispatchers and managers."""
    return DriverPublic.model_validate(await fleet.driver(session, driver_id))


@router.patch(
    "/{driver_id}",
    response_model=DriverPublic,
    summary="Change a driver",
    dependencies=[Manager],
    responses=answers(
        200,
        EXAMPLE,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            **NOT_FOUND,
            409: "driver_has_jobs: live jobs they could no longer drive (listed in `jobs`)",
            422: f"{VALIDATION}, {SHIFT_RULES}",
        },
    ),
)
async def update_driver(
    driver_id: RowId, session: SessionDep, settings: SettingsDep, body: DriverUpdate
) -> DriverPublic:
    """Change a driver's contact, languages, status, licence expiry, standing shift or limits
    (managers); fields left out stay, `shift_start` and `shift_end` null together remove the
    standing shift. Refused while a live job assigned to them could no longer be theirs
    (inactive, the licence expiring before its day, the standing shift no longer covering its
    crew window, or the daily limit below that day's driving). Jobs waiting for a driver are
    tried again."""
    driver = await fleet.update_driver(session, driver_id, body, settings)
    await fleet.changed(session, settings)
    await session.commit()
    return driver


@router.post(
    "/{driver_id}/shifts",
    status_code=201,
    response_model=ShiftPublic,
    summary="Plan a dated shift",
    dependencies=[Manager],
    responses=answers(
        201,
        SHIFT,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            **NOT_FOUND,
            409: "shift_overlaps or shift_rest_too_short (another shift of theirs, `shift_id`)",
            422: f"{VALIDATION}, shift_reversed, shift_too_long, shift_in_past or shift_too_far",
        },
        description="Planned",
    ),
)
async def create_shift(
    driver_id: RowId, session: SessionDep, settings: SettingsDep, body: ShiftCreate
) -> ShiftPublic:
    """A dated working period of the driver, beside or instead of their standing shift (UTC
    instants, any offset accepted): after its start, at most 24 hours, not over, and at least
    the driver's minimum rest away from each of their other dated shifts. Jobs waiting for a
    driver are tried again. Managers."""
    shift = await fleet.add_shift(session, driver_id, body)
    await fleet.changed(session, settings)
    await session.commit()
    return shift


@router.get(
    "/{driver_id}/shifts",
    response_model=Page[ShiftPublic],
    summary="List a driver's dated shifts",
    dependencies=[FleetReader],
    responses=listing(SHIFT, NOT_FOUND),
)
async def list_shifts(
    driver_id: RowId,
    session: SessionDep,
    paging: PagingDep,
    include_past: Annotated[bool, Query(description="Shifts already over too")] = False,
) -> Page[ShiftPublic]:
    """The driver's dated shifts by start, those not yet over unless `include_past`.
    Dispatchers and managers."""
    return await fleet.list_shifts(session, driver_id, paging, include_past)


@router.delete(
    "/{driver_id}/shifts/{shift_id}",
    response_model=ShiftPublic,
    summary="Call off a dated shift",
    dependencies=[Manager],
    responses=answers(
        200,
        SHIFT,
        {
            **UNAUTHENTICATED,
            **MANAGERS,
            404: "driver_not_found or shift_not_found",
            409: "shift_has_jobs: live jobs of the driver meet the shift (listed in `jobs`)",
            422: VALIDATION,
        },
        description="Called off: the shift as it was",
    ),
)
async def delete_shift(
    driver_id: RowId, shift_id: RowId, session: SessionDep, settings: SettingsDep
) -> ShiftPublic:
    """Remove a dated shift of the driver (managers). Refused while a live job of theirs meets
    it: dispatch moves those first. Answers the shift removed."""
    shift = await fleet.remove_shift(session, driver_id, shift_id)
    await fleet.changed(session, settings)
    await session.commit()
    return shift

"""Drivers: dispatch and managers list them; managers register them."""

from typing import Any

from fastapi import APIRouter, Depends
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Role, require

from transfer_service import fleet
from transfer_service.models import DriverCreate, DriverPublic, DriverStatus

router = APIRouter(prefix="/api/v1/drivers", tags=["drivers"])

EXAMPLE: dict[str, Any] = {
    "id": 7,
    "name": "Wang Lei",
    "phone": "+8613800138000",
    "licence_number": "SH-DL-000123",
    "status": "active",
    "languages": ["zh-Hans", "en"],
    "created_at": "2030-05-01T02:00:00Z",
}
REFUSALS = {401: "unauthenticated: no signed-in caller"}


@router.get(
    "",
    response_model=Page[DriverPublic],
    summary="List drivers",
    dependencies=[Depends(require(Role.DISPATCHER, Role.MANAGER))],
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems(
            {400: "invalid_cursor", **REFUSALS, 403: "forbidden: dispatchers and managers only"}
        ),
    },
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
    dependencies=[Depends(require(Role.MANAGER))],
    responses={
        201: example(EXAMPLE, "Registered"),
        **problems(
            {
                **REFUSALS,
                403: "forbidden: managers only",
                409: "driver_licence_taken: a driver with this licence number exists",
            }
        ),
    },
)
async def create_driver(session: SessionDep, body: DriverCreate) -> DriverPublic:
    """Add a driver to the pool dispatch assigns from (managers). The phone is stored in E.164;
    it is given to the guests the driver picks up."""
    driver = await fleet.register_driver(session, body)
    await session.commit()
    return driver

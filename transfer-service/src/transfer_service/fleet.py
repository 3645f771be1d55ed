"""The fleet: vehicles and drivers, registered and listed. Nothing here commits: the route
owns the transaction."""

from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.uniques import insert_unique
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import (
    Driver,
    DriverCreate,
    DriverPublic,
    DriverStatus,
    Vehicle,
    VehicleClass,
    VehicleCreate,
    VehiclePublic,
    VehicleStatus,
)


async def list_vehicles(
    session: AsyncSession,
    paging: Paging,
    status: VehicleStatus | None,
    vehicle_class: VehicleClass | None,
) -> Page[VehiclePublic]:
    query = select(Vehicle)
    if status is not None:
        query = query.where(Vehicle.status == status)
    if vehicle_class is not None:
        query = query.where(Vehicle.vehicle_class == vehicle_class)
    page = await keyset_page(session, query, paging, col(Vehicle.id))
    return page.map(VehiclePublic.model_validate)


async def register_vehicle(session: AsyncSession, data: VehicleCreate) -> VehiclePublic:
    taken = f"A vehicle with plate {data.plate} is registered."
    if (await session.exec(select(Vehicle.id).where(Vehicle.plate == data.plate))).first():
        raise ProblemError(409, "vehicle_plate_taken", taken)
    vehicle = await insert_unique(
        session, Vehicle.model_validate(data), "vehicle_plate_taken", taken
    )
    return VehiclePublic.model_validate(vehicle)


async def list_drivers(
    session: AsyncSession, paging: Paging, status: DriverStatus | None
) -> Page[DriverPublic]:
    query = select(Driver)
    if status is not None:
        query = query.where(Driver.status == status)
    page = await keyset_page(session, query, paging, col(Driver.id))
    return page.map(DriverPublic.model_validate)


async def register_driver(session: AsyncSession, data: DriverCreate) -> DriverPublic:
    taken = f"A driver with licence number {data.licence_number} is registered."
    licence = select(Driver.id).where(Driver.licence_number == data.licence_number)
    if (await session.exec(licence)).first():
        raise ProblemError(409, "driver_licence_taken", taken)
    driver = await insert_unique(
        session, Driver.model_validate(data), "driver_licence_taken", taken
    )
    return DriverPublic.model_validate(driver)

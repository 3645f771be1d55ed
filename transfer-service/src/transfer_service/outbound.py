"""The issue-18 events of a job, built from the job as it now is (its own version as the
aggregate version: a consumer tells a stale one from a newer one per job)."""

from datetime import datetime

from hotel_common.contacts import contact_of
from hotel_common.contracts.reservations import GuestContact
from hotel_common.contracts.transfers import (
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)

from transfer_service.models import Driver, Receipt, TransferJob, Vehicle


def guest_of(job: TransferJob) -> GuestContact:
    """The job's guest as the transfer events carry them."""
    return GuestContact.model_validate(contact_of(job))


def status_changed(
    job: TransferJob,
    previous: str,
    at: datetime,
    receipt: Receipt | None = None,
    *,
    crew: tuple[Vehicle | None, Driver | None] | None = None,
) -> TransferStatusChanged:
    """`crew` (the driver on site, issue 20): the place, car and driver the guest looks for."""
    vehicle, driver = crew or (None, None)
    on_site = crew is not None
    return TransferStatusChanged(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        status=str(job.status),
        previous_status=str(previous),
        at=at,
        guest=guest_of(job),
        property_timezone=job.property_timezone,
        receipt_number=receipt.number if receipt else None,
        fare_amount=receipt.amount if receipt else None,
        fare_currency=receipt.currency if receipt else None,
        confirmation_number=job.confirmation_number if on_site else None,
        pickup_place=job.pickup_place if on_site else None,
        driver_name=driver.name if driver else None,
        driver_phone=driver.phone if driver else None,
        vehicle_plate=vehicle.plate if vehicle else None,
        vehicle_description=vehicle.description if vehicle else None,
        aggregate_version=job.version,
    )


def rescheduled(
    job: TransferJob,
    previous_pickup_time: datetime,
    reason: str,
    vehicle: Vehicle | None,
    driver: Driver | None,
) -> TransferRescheduled:
    return TransferRescheduled(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        confirmation_number=job.confirmation_number,
        guest=guest_of(job),
        reason=reason,
        flight_number=job.flight_number,
        previous_pickup_time=previous_pickup_time,
        pickup_time=job.pickup_time,
        driver_on_site_at=job.driver_on_site_at,
        pickup_place=job.pickup_place,
        destination=job.destination,
        property_timezone=job.property_timezone,
        driver_name=driver.name if driver else None,
        driver_phone=driver.phone if driver else None,
        vehicle_plate=vehicle.plate if vehicle else None,
        vehicle_description=vehicle.description if vehicle else None,
        aggregate_version=job.version,
    )


def reassigned(
    job: TransferJob, reason: str, vehicle: Vehicle, driver: Driver
) -> TransferReassigned:
    return TransferReassigned(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        confirmation_number=job.confirmation_number,
        guest=guest_of(job),
        reason=reason,
        pickup_time=job.pickup_time,
        driver_on_site_at=job.driver_on_site_at,
        pickup_place=job.pickup_place,
        destination=job.destination,
        flight_number=job.flight_number,
        property_timezone=job.property_timezone,
        driver_name=driver.name,
        driver_phone=driver.phone,
        vehicle_plate=vehicle.plate,
        vehicle_description=vehicle.description,
        aggregate_version=job.version,
    )


def add_flag(job: TransferJob, *flags: str) -> None:
    job.flags = sorted({*(job.flags or []), *flags})


def drop_flag(job: TransferJob, *flags: str) -> None:
    job.flags = [f for f in (job.flags or []) if f not in flags]

"""What covering a job writes besides the job: its audit line and the `transfer.assigned` event."""

from typing import Any

from hotel_common.contracts.transfers import TransferAssigned, TransferCancelled
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit
from transfer_service.assignment import Assignment
from transfer_service.models import TransferJob
from transfer_service.outbound import guest_of


def record_assigned(
    session: AsyncSession,
    job: TransferJob,
    assignment: Assignment,
    actor: str = audit.SYSTEM,
    **also: Any,
) -> None:
    """The audit line of a job covered by `assignment` (`also`: what else the line says)."""
    audit.record(
        session,
        job.id,
        actor,
        "assigned",
        vehicle_id=assignment.vehicle.id,
        driver_id=assignment.driver.id,
        ride_id=job.ride_id,
        **also,
    )


def transfer_assigned(job: TransferJob, assignment: Assignment) -> TransferAssigned:
    return TransferAssigned(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        confirmation_number=job.confirmation_number,
        guest=guest_of(job),
        pickup_place=job.pickup_place,
        destination=job.destination,
        pickup_time=job.pickup_time,
        driver_on_site_at=job.driver_on_site_at,
        flight_number=job.flight_number,
        driver_name=assignment.driver.name,
        driver_phone=assignment.driver.phone,
        vehicle_plate=assignment.vehicle.plate,
        vehicle_description=assignment.vehicle.description,
        property_timezone=job.property_timezone,
        aggregate_version=job.reservation_version,
    )


def transfer_cancelled(
    job: TransferJob, reason: str, version: int | None, *, by_dispatch: bool = False
) -> TransferCancelled:
    """`transfer.cancelled` with what the guest's notice names (issue 20): the booking's
    number, the guest, and the pickup that no longer happens, in the property's time zone; and
    whether dispatch called off the ride alone (told to the guest) or the booking did (told by
    the booking's own notice)."""
    return TransferCancelled(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        reason=reason,
        confirmation_number=job.confirmation_number,
        guest=guest_of(job),
        pickup_time=job.pickup_time,
        pickup_place=job.pickup_place,
        property_timezone=job.property_timezone,
        cause="dispatch" if by_dispatch else "booking",
        aggregate_version=version,
    )

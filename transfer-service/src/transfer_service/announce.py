"""What covering a job writes besides the job: its audit line and the `transfer.assigned` event."""

from hotel_common.contacts import contact_of
from hotel_common.contracts.reservations import GuestContact
from hotel_common.contracts.transfers import TransferAssigned
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit
from transfer_service.assignment import Assignment
from transfer_service.models import TransferJob


def record_assigned(
    session: AsyncSession, job: TransferJob, assignment: Assignment, actor: str = audit.SYSTEM
) -> None:
    audit.record(
        session,
        job.id,
        actor,
        "assigned",
        vehicle_id=assignment.vehicle.id,
        driver_id=assignment.driver.id,
        ride_id=job.ride_id,
    )


def transfer_assigned(job: TransferJob, assignment: Assignment) -> TransferAssigned:
    guest = GuestContact.model_validate(contact_of(job))
    return TransferAssigned(
        transfer_id=job.id,
        reservation_id=job.reservation_id,
        confirmation_number=job.confirmation_number,
        guest=guest,
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

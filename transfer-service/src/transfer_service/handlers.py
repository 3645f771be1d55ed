"""Event handlers: a booking confirmed with a transfer gets its pickup; a cancelled one loses it.

Each handler runs in the inbox's transaction (hotel_common.events.inbox), so the job, its
outgoing event and the processed-event row commit together or not at all.
"""

import logging

from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
)
from hotel_common.contracts.transfers import TransferAssigned, TransferCancelled
from hotel_common.events.envelope import Envelope
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime, settings_as
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import jobs
from transfer_service.assignment import Assignment, assign
from transfer_service.config import Settings
from transfer_service.models import TransferJob

log = logging.getLogger(__name__)


class TransferHandlers:
    """Handlers bound to the service's settings; their names key the processed-events table."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def reservation_confirmed(self, session: AsyncSession, envelope: Envelope) -> None:
        booking = ReservationConfirmed.from_envelope(envelope)
        job = await jobs.open_arrival_pickup(session, booking, self.settings)
        if job is None:
            return
        assignment = await assign(session, job, self.settings.turnaround)
        if assignment is not None:
            add_event(session, transfer_assigned(job, assignment), self.settings.service_name)

    async def reservation_cancelled(self, session: AsyncSession, envelope: Envelope) -> None:
        cancellation = ReservationCancelled.from_envelope(envelope)
        reason = cancellation.reason or "reservation cancelled"
        for job in await jobs.cancel_for_reservation(session, cancellation.reservation_id, reason):
            log.info("transfer cancelled", extra={"transfer_id": job.id})
            add_event(
                session,
                TransferCancelled(
                    transfer_id=job.id, reservation_id=job.reservation_id, reason=reason
                ),
                self.settings.service_name,
            )


def transfer_assigned(job: TransferJob, assignment: Assignment) -> TransferAssigned:
    guest = GuestContact.model_validate(
        {
            "name": job.guest_name,
            "email": job.guest_email,
            "phone": job.guest_phone,
            "language": job.guest_language,
        }
    )
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
    )


def subscribe(runtime: Runtime) -> None:
    handlers = TransferHandlers(settings_as(runtime, Settings))
    runtime.handle(ReservationConfirmed.event_type, handlers.reservation_confirmed)
    runtime.handle(ReservationCancelled.event_type, handlers.reservation_cancelled)

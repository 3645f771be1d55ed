"""Event handlers: a booking confirmed with a transfer gets its pickup; a cancelled one loses it.

Each handler runs in the inbox's transaction (hotel_common.events.inbox), so the job, its
outgoing event and the processed-event row commit together or not at all. Both events belong to
the reservation: subscribed with their contracts, their handlers run one at a time per
reservation, across prefetch and replicas, and compare versions (see jobs.py) because the
events may come in any order.
"""

import logging

from hotel_common.contacts import contact_of
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
)
from hotel_common.contracts.transfers import TransferAssigned, TransferCancelled
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import jobs
from transfer_service.assignment import Assignment, assign
from transfer_service.config import Settings
from transfer_service.models import TransferJob

log = logging.getLogger(__name__)


class TransferHandlers:
    """Handlers bound to the service's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def reservation_confirmed(
        self, session: AsyncSession, booking: ReservationConfirmed
    ) -> None:
        job = await jobs.open_arrival_pickup(session, booking, self.settings)
        if job is None:
            return
        assignment = await assign(session, job, self.settings.turnaround)
        session.add(job)  # written at the commit, assigned or not: one INSERT
        if assignment is not None:
            add_event(session, transfer_assigned(job, assignment))

    async def reservation_cancelled(
        self, session: AsyncSession, cancellation: ReservationCancelled
    ) -> None:
        reason = cancellation.reason or "reservation cancelled"
        cancelled = await jobs.cancel_for_reservation(
            session, cancellation.reservation_id, reason, cancellation.aggregate_version
        )
        for job in cancelled:
            log.info("transfer cancelled", extra={"transfer_id": job.id})
            add_event(
                session,
                TransferCancelled(
                    transfer_id=job.id,
                    reservation_id=job.reservation_id,
                    reason=reason,
                    aggregate_version=cancellation.aggregate_version,
                ),
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


def subscribe(runtime: Runtime[Settings]) -> None:
    handlers = TransferHandlers(runtime.settings)
    # `formerly`: the keys these handlers were recorded under before they had names.
    runtime.handle(
        ReservationConfirmed,
        handlers.reservation_confirmed,
        name="transfer.open_pickup",
        formerly=["transfer_service.handlers.TransferHandlers.reservation_confirmed"],
    )
    runtime.handle(
        ReservationCancelled,
        handlers.reservation_cancelled,
        name="transfer.cancel_pickups",
        formerly=["transfer_service.handlers.TransferHandlers.reservation_cancelled"],
    )

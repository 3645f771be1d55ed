"""Event handlers: a booking confirmed with a transfer gets its pickup; a modified one has it
moved, opened or called off as the booking now asks; a cancelled, no-show or expired one loses it.

Each handler runs in the inbox's transaction (hotel_common.events.inbox), so the job, its
outgoing event and the processed-event row commit together or not at all. All these events belong
to the reservation: subscribed with their contracts, their handlers run one at a time per
reservation, across prefetch and replicas, and compare versions (see jobs.py) because the
events may come in any order.
"""

import logging

from hotel_common.contacts import contact_of
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.contracts.transfers import TransferAssigned, TransferCancelled
from hotel_common.events.envelope import newer
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import flights, jobs
from transfer_service.assignment import Assignment, assign
from transfer_service.config import Settings
from transfer_service.models import TransferJob, TransferStatus

log = logging.getLogger(__name__)


class TransferHandlers:
    """Handlers bound to the service's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def reservation_confirmed(
        self, session: AsyncSession, booking: ReservationConfirmed | ReservationModified
    ) -> None:
        job = await jobs.open_arrival_pickup(session, booking, self.settings)
        if job is None:
            return
        assignment = await assign(session, job, self.settings)
        session.add(job)  # written at the commit, assigned or not: one INSERT
        if assignment is not None:
            add_event(session, transfer_assigned(job, assignment))

    async def reservation_modified(
        self, session: AsyncSession, change: ReservationModified
    ) -> None:
        """The pickup follows the booking as it now is (the event carries all of it, `changes`
        only says what moved): moved and its crew re-checked, opened, or called off. Only a
        confirmed booking has a pickup: a request's is opened by its confirmation, which
        carries the pickup as it then is; a guest already checked in has arrived."""
        rid, version = change.reservation_id, change.aggregate_version
        if change.status != "confirmed":
            log.info(
                "change of a booking that is not confirmed: no pickup to follow",
                extra={"reservation_id": rid, "status": change.status},
            )
            return
        if await jobs.cancelled_since(session, rid, version):
            log.info("change older than the booking's cancellation", extra={"reservation_id": rid})
            return
        job = await jobs.arrival_pickup(session, rid)
        if job is None:
            if change.transfer is None:
                await jobs.withdraw(session, rid, version)
            else:
                await self.reservation_confirmed(session, change)  # the pickup it now asks for
            return
        if not newer(version, job.reservation_version or 0):
            log.info(
                "stale change of the booking: its pickup already reflects a later one",
                extra={"reservation_id": rid, "transfer_id": job.id},
            )
            return
        job.reservation_version = version
        session.add(job)
        if change.transfer is None:
            if job.status in jobs.CANCELLABLE:
                self._cancelled(session, job, "pickup no longer requested", version)
            return
        columns = jobs.plan(change, change.transfer, self.settings)
        previous_pickup = job.pickup_time  # issue 18: a moved pickup is rescheduled (flights.py)
        if job.status == TransferStatus.CANCELLED:
            # Asked for again after a change called it off: the same job, planned afresh.
            jobs.replan(job, columns)
            job.cancel_reason, job.cancelled_at = None, None
            jobs.release_crew(job)
        elif job.status not in jobs.MOVABLE:
            jobs.replan(job, {k: v for k, v in columns.items() if k not in jobs.SCHEDULE})
            log.warning(
                "pickup under way not moved: dispatch tells the driver and the guest",
                extra={"reservation_id": rid, "transfer_id": job.id, "status": job.status},
            )
            return
        elif not jobs.replan(job, columns):
            return  # the pickup did not move (the dates or the room did): nothing to tell
        keep = (job.vehicle_id, job.driver_id)
        jobs.release_crew(job)
        assignment = await assign(session, job, self.settings, keep=keep)
        if assignment is not None:
            add_event(session, transfer_assigned(job, assignment))
        if keep != (None, None) and job.pickup_time != previous_pickup:
            crew = (assignment.vehicle, assignment.driver) if assignment else (None, None)
            flights.rescheduled_by_booking(session, job, previous_pickup, *crew)
        if assignment is None and keep != (None, None):
            log.warning(
                "moved pickup lost its crew: back to dispatch",
                extra={"reservation_id": rid, "transfer_id": job.id, "reason": "rescheduled"},
            )

    async def reservation_cancelled(
        self, session: AsyncSession, cancellation: ReservationCancelled
    ) -> None:
        reason = cancellation.reason or "reservation cancelled"
        await self._cancel_pickups(session, cancellation, reason)

    async def reservation_no_show(self, session: AsyncSession, event: ReservationNoShow) -> None:
        await self._cancel_pickups(session, event, "guest did not arrive")

    async def reservation_expired(self, session: AsyncSession, event: ReservationExpired) -> None:
        await self._cancel_pickups(session, event, "booking request expired")

    async def _cancel_pickups(
        self,
        session: AsyncSession,
        event: ReservationCancelled | ReservationNoShow | ReservationExpired,
        reason: str,
    ) -> None:
        """The booking's pickups not yet under way are called off, as for a cancellation."""
        version = event.aggregate_version
        cancelled = await jobs.cancel_for_reservation(
            session, event.reservation_id, reason, version
        )
        for job in cancelled:
            self._cancelled(session, job, reason, version)

    def _cancelled(
        self, session: AsyncSession, job: TransferJob, reason: str, version: int | None
    ) -> None:
        if job.status != TransferStatus.CANCELLED:
            jobs.cancel(job, reason)
            session.add(job)
        log.info("transfer cancelled", extra={"transfer_id": job.id})
        add_event(
            session,
            TransferCancelled(
                transfer_id=job.id,
                reservation_id=job.reservation_id,
                reason=reason,
                aggregate_version=version,
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
    runtime.handle(
        ReservationModified, handlers.reservation_modified, name="transfer.follow_change"
    )
    runtime.handle(ReservationNoShow, handlers.reservation_no_show, name="transfer.cancel_no_show")
    runtime.handle(ReservationExpired, handlers.reservation_expired, name="transfer.cancel_expired")

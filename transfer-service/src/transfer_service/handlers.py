"""Event handlers: a booking confirmed with a transfer gets its arrival pickup (and departure
drop-off); a modified one has them moved, opened or called off as the booking now asks; a
cancelled, no-show or expired one loses them.

Each handler runs in the inbox's transaction (hotel_common.events.inbox), so the job, its
outgoing event and the processed-event row commit together or not at all. All these events belong
to the reservation: subscribed with their contracts, their handlers run one at a time per
reservation, across prefetch and replicas, and compare versions (see jobs.py) because the
events may come in any order.
"""

import logging
from typing import Any

from hotel_common.contracts.complaints import TransferCompensationGranted
from hotel_common.contracts.guests import GuestErased
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.events.envelope import newer_than_stored
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import announce, audit, compensation, erasure, flights, jobs
from transfer_service.announce import record_assigned, transfer_assigned
from transfer_service.assignment import assign
from transfer_service.config import Settings
from transfer_service.coverage import retry_uncovered
from transfer_service.models import TransferJob, TransferStatus
from transfer_service.places import Atlas

log = logging.getLogger(__name__)


class TransferHandlers:
    """Handlers bound to the service's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def reservation_confirmed(
        self, session: AsyncSession, booking: ReservationConfirmed
    ) -> None:
        if booking.transfer is None and booking.departure is None:
            return  # most bookings ask for no ride: no place or travel time to read
        atlas = await Atlas.load(session)
        # Both opened (their checks read job rows) before either takes the crew's locks.
        arrival = await jobs.open_arrival_pickup(session, booking, self.settings, atlas)
        departure = await jobs.open_departure(session, booking, self.settings, atlas)
        await self._open(session, arrival)
        await self._open(session, departure)

    async def _open(self, session: AsyncSession, job: TransferJob | None) -> None:
        """Assign a newly opened job and write it: one INSERT, assigned or not."""
        if job is None:
            return
        assignment = await assign(session, job, self.settings)
        session.add(job)
        audit.record(session, job.id, audit.SYSTEM, "created", kind=job.kind, source=job.source)
        if assignment is not None:
            record_assigned(session, job, assignment)
            add_event(session, transfer_assigned(job, assignment))
        else:
            audit.record(session, job.id, audit.SYSTEM, "uncovered", reason=job.uncovered_reason)

    async def reservation_modified(
        self, session: AsyncSession, change: ReservationModified
    ) -> None:
        """The pickup and the drop-off follow the booking as it now is (the event carries all
        of it, `changes` only says what moved): moved and their crew re-checked, opened, or
        called off. Only a confirmed booking has them: a request's are opened by its
        confirmation, which carries them as they then are."""
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
        # Both jobs locked before any crew is: job rows, then vehicles, then drivers, the order
        # every writer keeps (coverage.py), so a retry pass and this change never deadlock.
        arrival = await jobs.arrival_pickup(session, rid)
        departure = await jobs.job_of(session, rid, jobs.DEPARTURE_DROPOFF)
        asks = change.transfer is not None or change.departure is not None
        atlas = await Atlas.load(session) if asks else Atlas()  # places only to plan a ride
        released = await self._follow_arrival(session, change, arrival, atlas)
        released |= await self._follow_departure(session, change, departure, atlas)
        if released:  # a crew freed by the change may cover a job left waiting
            await retry_uncovered(session, self.settings)

    async def _follow_arrival(
        self,
        session: AsyncSession,
        change: ReservationModified,
        job: TransferJob | None,
        atlas: Atlas,
    ) -> bool:
        rid, version = change.reservation_id, change.aggregate_version
        if job is None:
            if change.transfer is None:
                await jobs.withdraw(session, rid, version)
            else:  # the pickup it now asks for
                await self._open(
                    session, await jobs.open_arrival_pickup(session, change, self.settings, atlas)
                )
            return False
        if change.transfer is None:
            return self._stop(session, job, version, "pickup no longer requested")
        columns, unknown = jobs.plan(change, change.transfer, self.settings, atlas)
        return await self._move(session, job, version, columns, unknown)

    async def _follow_departure(
        self,
        session: AsyncSession,
        change: ReservationModified,
        job: TransferJob | None,
        atlas: Atlas,
    ) -> bool:
        version = change.aggregate_version
        if job is None:
            if change.departure is None:
                await jobs.withdraw(session, change.reservation_id, version, jobs.DEPARTURE_DROPOFF)
            else:
                await self._open(
                    session, await jobs.open_departure(session, change, self.settings, atlas)
                )
            return False
        if change.departure is None:
            return self._stop(session, job, version, "drop-off no longer requested")
        columns, unknown = jobs.plan_departure(change, change.departure, self.settings, atlas)
        return await self._move(session, job, version, columns, unknown)

    def _stop(
        self, session: AsyncSession, job: TransferJob, version: int | None, reason: str
    ) -> bool:
        """The booking asks for this job no more: called off if not under way (True: its crew
        is free)."""
        if not newer_than_stored(version, job.reservation_version):
            return False
        job.reservation_version = version
        session.add(job)
        if job.status in jobs.CANCELLABLE:
            held = job.vehicle_id is not None
            self._cancelled(session, job, reason, version)
            return held
        return False

    async def _move(
        self,
        session: AsyncSession,
        job: TransferJob,
        version: int | None,
        columns: dict[str, Any],
        unknown: bool,
    ) -> bool:
        """The job re-planned as the booking now is; True if it held a crew before (its old
        window is free now)."""
        rid = job.reservation_id
        if not newer_than_stored(version, job.reservation_version):
            log.info(
                "stale change of the booking: its job already reflects a later one",
                extra={"reservation_id": rid, "transfer_id": job.id},
            )
            return False
        job.reservation_version = version
        session.add(job)
        previous_pickup = job.pickup_time  # a moved pickup is announced (flights.py)
        jobs.keep_flight_move(job, columns)
        if job.status == TransferStatus.CANCELLED:
            # Asked for again after a change called it off: the same job, planned afresh.
            jobs.replan(job, columns)
            job.cancel_reason, job.cancelled_at = None, None
            jobs.release_crew(job)
        elif job.status not in jobs.MOVABLE:
            jobs.replan(job, {k: v for k, v in columns.items() if k not in jobs.SCHEDULE})
            log.warning(
                "job under way not moved: dispatch tells the driver and the guest",
                extra={"reservation_id": rid, "transfer_id": job.id, "status": job.status},
            )
            return False
        elif not jobs.replan(job, columns):
            return False  # the ride did not move (the dates or the room did): nothing to tell
        jobs.flag(job, jobs.UNKNOWN_PLACE, unknown)
        jobs.touch(job)
        keep = (job.vehicle_id, job.driver_id)
        jobs.release_crew(job)
        assignment = await assign(session, job, self.settings, keep=keep)
        if job.pickup_time != previous_pickup:
            crew = (assignment.vehicle, assignment.driver) if assignment else (None, None)
            flights.rescheduled_by_booking(session, job, previous_pickup, *crew)
        else:
            audit.record(session, job.id, audit.SYSTEM, "rescheduled", reason="booking_changed")
        if assignment is not None:
            record_assigned(session, job, assignment)
            add_event(session, transfer_assigned(job, assignment))
            return keep != (None, None)  # its old window is free, whoever kept the crew
        audit.record(session, job.id, audit.SYSTEM, "uncovered", reason=job.uncovered_reason)
        if keep != (None, None):
            log.warning(
                "moved job lost its crew: back to dispatch",
                extra={"reservation_id": rid, "transfer_id": job.id, "reason": "rescheduled"},
            )
            return True
        return False

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
        if any(job.vehicle_id is not None for job in cancelled):
            await retry_uncovered(session, self.settings)  # their crews are free again

    def _cancelled(
        self, session: AsyncSession, job: TransferJob, reason: str, version: int | None
    ) -> None:
        if job.status != TransferStatus.CANCELLED:
            jobs.cancel(job, reason)
            session.add(job)
        log.info("transfer cancelled", extra={"transfer_id": job.id})
        jobs.touch(job)
        audit.record(session, job.id, audit.SYSTEM, "cancelled", reason=reason)
        add_event(
            session,
            announce.transfer_cancelled(job, reason, version),
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
    runtime.handle(GuestErased, erasure.forget_guest, name="transfer.forget_guest")
    runtime.handle(
        TransferCompensationGranted,
        compensation.on_transfer_compensation,
        name="transfer.complaint_free_ride",
    )

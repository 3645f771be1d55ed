"""Transfer jobs: opening the arrival pickup a booking asked for, and cancelling it."""

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.time import as_utc, utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.config import Settings
from transfer_service.models import CancelledReservation, TransferJob

log = logging.getLogger(__name__)

ARRIVAL_PICKUP = "arrival_pickup"
# Before the guest boards a job can still be called off (DOMAIN.md §2, transfer job states).
CANCELLABLE = ("requested", "assigned", "driver_on_site")


def local_date(instant: datetime, timezone: str) -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # Raising parks the event as a dead letter, visible and replayable once fixed.
        raise ValueError(f"unknown property time zone {timezone!r}") from exc
    return instant.astimezone(zone).date()


async def open_arrival_pickup(
    session: AsyncSession, booking: ReservationConfirmed, settings: Settings
) -> TransferJob | None:
    """Create the pickup the booking asked for; None if it asked for none or already has one."""
    request = booking.transfer
    if request is None:
        return None
    if await session.get(CancelledReservation, booking.reservation_id) is not None:
        log.info(
            "confirmation arrived after the cancellation; no pickup",
            extra={"reservation_id": booking.reservation_id},
        )
        return None
    existing = await session.exec(
        select(TransferJob.id).where(
            TransferJob.reservation_id == booking.reservation_id,
            TransferJob.kind == ARRIVAL_PICKUP,
        )
    )
    if (job_id := existing.first()) is not None:
        log.info(
            "reservation already has its arrival pickup",
            extra={"reservation_id": booking.reservation_id, "transfer_id": job_id},
        )
        return None
    pickup = as_utc(request.arrival_time)
    job = TransferJob(
        reservation_id=booking.reservation_id,
        confirmation_number=booking.confirmation_number,
        kind=ARRIVAL_PICKUP,
        guest_name=booking.guest.name,
        guest_email=booking.guest.email,
        guest_phone=booking.guest.phone,
        guest_language=booking.guest.language,
        flight_number=request.flight_number,
        pickup_place=request.pickup_place,
        destination=booking.property_name,
        pickup_time=pickup,
        driver_on_site_at=pickup - settings.on_site_lead,
        ends_at=pickup + settings.trip,
        pickup_date=local_date(pickup, booking.property_timezone),
        property_timezone=booking.property_timezone,
        passengers=request.passengers,
        luggage=request.luggage,
    )
    session.add(job)
    await session.flush()
    return job


async def cancel_for_reservation(
    session: AsyncSession, reservation_id: str, reason: str
) -> list[TransferJob]:
    """Cancel the reservation's jobs not yet under way; their vehicle and driver become free
    (a cancelled job holds nothing) and stay recorded on the job for the history.

    The cancellation is remembered even when no job exists yet: its confirmation may still come.
    """
    if await session.get(CancelledReservation, reservation_id) is None:
        session.add(CancelledReservation(reservation_id=reservation_id))
    jobs = (
        await session.exec(
            select(TransferJob)
            .where(
                TransferJob.reservation_id == reservation_id,
                col(TransferJob.status).in_(CANCELLABLE),
            )
            .with_for_update()
        )
    ).all()
    now = utcnow()
    for job in jobs:
        job.status = "cancelled"
        job.cancel_reason = reason
        job.cancelled_at = job.updated_at = now
        session.add(job)
    await session.flush()
    return list(jobs)

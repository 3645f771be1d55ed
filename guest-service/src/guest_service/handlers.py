"""Events guest-service consumes: bookings link stays to profiles, cancellations close them."""

import logging

from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.events.envelope import Envelope
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import matching

log = logging.getLogger(__name__)


async def on_reservation_confirmed(session: AsyncSession, envelope: Envelope) -> None:
    booking = ReservationConfirmed.from_envelope(envelope)
    stay = await matching.link_booking(session, booking)
    log.info(
        "booking linked to guest",
        extra={"reservation_id": booking.reservation_id, "guest_id": stay.guest_id},
    )


async def on_reservation_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    cancellation = ReservationCancelled.from_envelope(envelope)
    stay = await matching.cancel_stay(session, cancellation)
    if stay is not None:
        log.info(
            "stay cancelled",
            extra={"reservation_id": cancellation.reservation_id, "guest_id": stay.guest_id},
        )


def subscribe(runtime: Runtime) -> None:
    runtime.handle(ReservationConfirmed.event_type, on_reservation_confirmed)
    runtime.handle(ReservationCancelled.event_type, on_reservation_cancelled)

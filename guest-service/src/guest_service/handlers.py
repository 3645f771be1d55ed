"""Events guest-service consumes: bookings link stays to profiles, cancellations close them."""

import logging

from hotel_common.contracts.reservations import ReservationCancelled, ReservationConfirmed
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import matching
from guest_service.config import Settings

log = logging.getLogger(__name__)


async def on_reservation_confirmed(session: AsyncSession, booking: ReservationConfirmed) -> None:
    guest_id = await matching.link_booking(session, booking)
    log.info(
        "booking linked to guest",
        extra={"reservation_id": booking.reservation_id, "guest_id": guest_id},
    )


async def on_reservation_cancelled(
    session: AsyncSession, cancellation: ReservationCancelled
) -> None:
    stay = await matching.cancel_stay(session, cancellation)
    if stay is not None:
        log.info(
            "stay cancelled",
            extra={"reservation_id": cancellation.reservation_id, "guest_id": stay.guest_id},
        )


def subscribe(runtime: Runtime[Settings]) -> None:
    # `formerly`: the keys these handlers were recorded under before they had names.
    runtime.handle(
        ReservationConfirmed,
        on_reservation_confirmed,
        name="guest.link_booking",
        formerly=["guest_service.handlers.on_reservation_confirmed"],
    )
    runtime.handle(
        ReservationCancelled,
        on_reservation_cancelled,
        name="guest.cancel_stay",
        formerly=["guest_service.handlers.on_reservation_cancelled"],
    )

"""Events guest-service consumes: bookings link stays to profiles, changes keep them as the
booking is, cancellations close them, check-outs record what the stay was."""

import logging

from hotel_common.contracts.guests import GuestErased
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationCreated,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.contracts.transfers import TransferStatusChanged
from hotel_common.service import Runtime
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import history, matching, rights, value
from guest_service.config import Settings
from guest_service.loyalty import install as install_loyalty
from guest_service.loyalty import stays as loyalty_stays
from guest_service.surveys import SurveyHandlers

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
        await value.refresh_guest(session, stay.guest_id)  # segments: value.py
        log.info(
            "stay cancelled",
            extra={"reservation_id": cancellation.reservation_id, "guest_id": stay.guest_id},
        )


async def on_reservation_modified(session: AsyncSession, change: ReservationModified) -> None:
    outcome = await matching.follow_change(session, change)
    if outcome.guest_id is not None:
        log.info(
            "stay linked from a change" if outcome.linked else "stay follows the booking's change",
            extra={"reservation_id": change.reservation_id, "guest_id": outcome.guest_id},
        )


async def on_reservation_checked_out(
    session: AsyncSession, checkout: ReservationCheckedOut
) -> None:
    guest_id = await matching.record_checkout(session, checkout)
    if guest_id is not None:
        await value.refresh_guest(session, guest_id)  # segments: value.py
        log.info(
            "completed stay recorded",
            extra={"reservation_id": checkout.reservation_id, "guest_id": guest_id},
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
    runtime.handle(ReservationModified, on_reservation_modified, name="guest.follow_change")
    runtime.handle(ReservationCheckedOut, on_reservation_checked_out, name="guest.record_stay")
    runtime.handle(GuestErased, rights.forget_published_erasure, name="guest.scrub_erased")
    feedback = SurveyHandlers(runtime.settings)
    runtime.handle(ReservationCheckedOut, feedback.checked_out, name="guest.survey_after_stay")
    runtime.handle(TransferStatusChanged, feedback.transfer_changed, name="guest.survey_after_ride")
    runtime.handle(ReservationCreated, history.note_channel, name="guest.note_channel")
    runtime.handle(ReservationNoShow, history.note_no_show, name="guest.note_no_show")
    runtime.handle(TransferStatusChanged, history.note_transfer, name="guest.note_transfer")
    # Loyalty, after the handlers above that link and record the stay (each runs in turn).
    install_loyalty(runtime.settings)
    settings = runtime.settings
    runtime.handle(
        ReservationConfirmed, loyalty_stays.on_confirmed(settings), name="guest.loyalty_hold"
    )
    runtime.handle(
        ReservationModified, loyalty_stays.on_modified(settings), name="guest.loyalty_move"
    )
    runtime.handle(ReservationCancelled, loyalty_stays.reverse_points, name="guest.loyalty_reverse")
    runtime.handle(
        ReservationNoShow, loyalty_stays.reverse_points, name="guest.loyalty_reverse_no_show"
    )
    runtime.handle(
        ReservationCheckedOut, loyalty_stays.on_checked_out(settings), name="guest.loyalty_earn"
    )

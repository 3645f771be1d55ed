"""A booking's life after the request: confirm (hold rooms) and cancel (release them).

Each change is written together with the event that announces it (outbox), in the caller's
transaction: nothing here commits (the route or the consumer wrapper does). Both actions are
idempotent by state: repeating one that already took effect returns the booking unchanged and
announces nothing again. Every change bumps the reservation's version, and its event carries
the new version: consumers may get the events in any order and use it to tell which is newer.

Cancellation policy (docs/domain.md, A booking's life): free until 1 day before arrival
(manual 000 §1.4.2), no fee set inside that day. Fees belong to the rate plans and policies of a
later issue; until then every cancellation of a requested or confirmed booking is accepted and free.
"""

from hotel_common.contacts import contact_of
from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
    TransferRequest,
)
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import inventory, stays
from reservation_service.access import Reach
from reservation_service.bookings import Booking, load
from reservation_service.models import ReservationStatus


def _guest(booking: Booking) -> GuestContact:
    return GuestContact.model_validate(contact_of(booking.reservation))


def confirmed_event(booking: Booking) -> ReservationConfirmed:
    public = booking.public()
    transfer = public.transfer
    return ReservationConfirmed(
        aggregate_version=booking.reservation.version,
        reservation_id=public.id,
        confirmation_number=public.confirmation_number,
        property_name=booking.property.name,
        property_timezone=booking.property.timezone,
        room_type_code=public.room_type_code,
        room_type_name=public.room_type_name,
        check_in=public.check_in,
        check_out=public.check_out,
        guests=public.guests,
        total_amount=public.total_amount,
        currency=public.currency,
        guest=_guest(booking),
        transfer=TransferRequest(**transfer.model_dump()) if transfer else None,
    )


async def confirm(session: AsyncSession, reservation_id: str, reach: Reach) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == ReservationStatus.CONFIRMED:
        return booking  # nothing changed
    if r.status == ReservationStatus.CANCELLED:
        raise ProblemError(409, "reservation_cancelled", "A cancelled booking cannot be confirmed.")
    if (passed := stays.check_in_passed(r.check_in, booking.property.timezone)) is not None:
        raise passed
    if not await inventory.hold(session, r.room_type_id, r.check_in, r.check_out):
        raise ProblemError(
            409,
            "no_availability",
            f"No {booking.room_type.code} room is free on every night from "
            f"{r.check_in.isoformat()} to {r.check_out.isoformat()}; the booking stays requested.",
        )
    r.status = ReservationStatus.CONFIRMED
    r.confirmed_at = r.updated_at = utcnow()
    r.version += 1
    add_event(session, confirmed_event(booking))
    return booking


async def cancel(
    session: AsyncSession, reservation_id: str, reach: Reach, reason: str | None
) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == ReservationStatus.CANCELLED:
        return booking
    was_confirmed = r.status == ReservationStatus.CONFIRMED
    if was_confirmed:
        await inventory.release(session, r.room_type_id, r.check_in, r.check_out)
    r.status = ReservationStatus.CANCELLED
    r.cancelled_at = r.updated_at = utcnow()
    r.cancel_reason = reason
    r.version += 1
    add_event(
        session,
        ReservationCancelled(
            aggregate_version=r.version,
            reservation_id=r.id,
            confirmation_number=r.confirmation_number,
            property_name=booking.property.name,
            check_in=r.check_in,
            check_out=r.check_out,
            reason=reason,
            was_confirmed=was_confirmed,
            guest=_guest(booking),
        ),
    )
    return booking

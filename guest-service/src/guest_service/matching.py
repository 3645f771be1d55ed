"""Matching bookings to guest profiles and keeping their stays in step with the reservation.

A booking belongs to the profile with its normalised email, else the one with its phone, else a
new profile. Unique email, phone and reservation_id make concurrent bookings converge: the loser
of a race hits a constraint inside a savepoint and simply matches again.
"""

import logging

from hotel_common.contracts.reservations import (
    GuestContact,
    ReservationCancelled,
    ReservationConfirmed,
)
from hotel_common.time import utcnow
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.contacts import booking_email, booking_phone
from guest_service.models import NAME_MAX_LENGTH, Guest, GuestStay, Source, StayStatus
from guest_service.profiles import find_by_email, find_by_phone

log = logging.getLogger(__name__)

# Each lost race means another transaction committed the contact we wanted, so the next
# attempt finds it; a few attempts are plenty. Beyond that the bus retries the event.
MAX_ATTEMPTS = 3


class StayNotLinkedYet(LookupError):
    """A cancellation overtook its confirmation; raising lets the bus deliver it again later."""


async def stay_for(session: AsyncSession, reservation_id: str) -> GuestStay | None:
    query = select(GuestStay).where(GuestStay.reservation_id == reservation_id)
    return (await session.exec(query)).first()


async def link_booking(session: AsyncSession, booking: ReservationConfirmed) -> GuestStay:
    """Find or create the booking's guest and link the booking as a stay, once."""
    attempt = 1
    while True:
        try:
            async with session.begin_nested():
                return await _link(session, booking)
        except IntegrityError:
            if attempt >= MAX_ATTEMPTS:
                raise
            attempt += 1
            log.info(
                "booking raced another write, matching again",
                extra={"reservation_id": booking.reservation_id, "attempt": attempt},
            )


async def _link(session: AsyncSession, booking: ReservationConfirmed) -> GuestStay:
    stay = await stay_for(session, booking.reservation_id)
    if stay is not None:
        return stay
    guest = await match_guest(session, booking.guest, booking.reservation_id)
    stay = GuestStay(
        guest_id=guest.id,
        reservation_id=booking.reservation_id,
        confirmation_number=booking.confirmation_number,
        property_name=booking.property_name,
        room_type_code=booking.room_type_code,
        check_in=booking.check_in,
        check_out=booking.check_out,
        total_amount=booking.total_amount,
        currency=booking.currency,
    )
    session.add(stay)
    return stay


async def match_guest(session: AsyncSession, contact: GuestContact, reservation_id: str) -> Guest:
    """The booking's profile: by email, else by phone, else a new one. Fills blanks only."""
    # A booking carries whatever the channel sent: an odd phone is dropped, a long name cut,
    # rather than the whole booking being refused.
    name = contact.name.strip()[:NAME_MAX_LENGTH]
    email = booking_email(contact.email)
    phone = booking_phone(contact.phone)
    by_email = await find_by_email(session, email) if email else None
    by_phone = await find_by_phone(session, phone) if phone else None
    if by_email and by_phone and by_email.id != by_phone.id:
        # Two profiles for one person: merging is a separate, reviewed step.
        log.warning(
            "booking contact matches two profiles; linked to the email match",
            extra={
                "reservation_id": reservation_id,
                "guest_id": by_email.id,
                "phone_guest_id": by_phone.id,
            },
        )
    guest = by_email or by_phone
    if guest is None:
        guest = Guest(
            name=name,
            email=email,
            phone=phone,
            language=contact.language,
            source=Source.BOOKING,
        )
        session.add(guest)
        return guest

    # What the guest or staff already set wins; the booking only fills what is missing.
    filled = {
        "name": name if not guest.name else None,
        "email": email if guest.email is None and by_email is None else None,
        "phone": phone if guest.phone is None and by_phone is None else None,
        "language": contact.language if guest.language is None else None,
    }
    filled = {field: value for field, value in filled.items() if value}
    if filled:
        guest.sqlmodel_update(filled)
        guest.updated_at = utcnow()
    return guest


async def cancel_stay(
    session: AsyncSession, cancellation: ReservationCancelled
) -> GuestStay | None:
    """Mark the reservation's stay cancelled (idempotent by state)."""
    stay = await stay_for(session, cancellation.reservation_id)
    if stay is None:
        if cancellation.was_confirmed:
            raise StayNotLinkedYet(cancellation.reservation_id)
        return None  # never confirmed, so never linked: nothing to record
    if stay.status != StayStatus.CANCELLED:
        stay.status = StayStatus.CANCELLED
        stay.updated_at = utcnow()
    return stay

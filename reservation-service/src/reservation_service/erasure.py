"""A guest erased in guest-service (`guest.erased`): reservation-service forgets the person and
keeps the bookings' amounts, dates, rooms and folios.

The bookings reached: those the event names (the guest's stays) and any other booking made
with one of the guest's emails (a request that expired or was never confirmed never became a
stay). A phone alone reaches none: an OTA may send its own call-centre number for every guest.

On each: the guest's name becomes "Erased guest", the email an address of no one
(`erased-<id>@erased.invalid`, so a guest signing in with the old address no longer finds the
booking), the phone and the free-text special requests go, the pickup party's sign name and
notes go (its counts stay), the ID check keeps only that it happened (no document digits). The
booking's history lines, and the shared tables (outbox, Idempotency-Key answers:
hotel_common.erasure), are scrubbed of the event's values. Amounts, nights, folio lines stay.

Idempotent: a redelivered event finds nothing left to change.
"""

import logging
from typing import Any

from hotel_common.contracts.guests import GuestErased
from hotel_common.erasure import (
    ERASED_NAME,
    erased_email,
    reached_rows,
    redact,
    redact_rows,
    scrub,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import Reservation, ReservationHistory
from reservation_service.stay_models import IdVerification

log = logging.getLogger(__name__)

# Keys of a pickup's or a drop-off's needs (JSON) that hold words about the person.
PERSONAL_NEEDS = ("sign_name", "notes")


async def forget_guest(session: AsyncSession, erased: GuestErased) -> None:
    values = [*erased.emails, *erased.phones, *erased.names]
    bookings = await reached_rows(
        session,
        Reservation,
        Reservation.id,
        erased.reservation_ids,
        Reservation.guest_email,
        erased.emails,
    )
    for booking in bookings:
        booking.guest_name = ERASED_NAME
        booking.guest_email = erased_email(booking.id)
        booking.guest_phone = None
        booking.special_requests = None
        booking.transfer_needs = _without_person(booking.transfer_needs)
        booking.departure = _without_person(booking.departure)
        if booking.cancel_reason:
            booking.cancel_reason = redact(booking.cancel_reason, values)
        session.add(booking)
    ids = [b.id for b in bookings]
    await redact_rows(
        session, ReservationHistory, ReservationHistory.reservation_id, ids, "changes", values
    )
    if ids:
        checks = await session.exec(
            select(IdVerification).where(col(IdVerification.reservation_id).in_(ids))
        )
        for check in checks.all():
            check.last4 = None
            session.add(check)
    await session.flush()
    scrubbed = await scrub(session, values)
    log.info(
        "guest erased from bookings",
        extra={"guest_id": erased.guest_id, "reservations": len(ids), "scrubbed": scrubbed},
    )


def _without_person(needs: dict[str, Any] | None) -> dict[str, Any] | None:
    if not needs:
        return needs
    return {k: v for k, v in needs.items() if k not in PERSONAL_NEEDS}

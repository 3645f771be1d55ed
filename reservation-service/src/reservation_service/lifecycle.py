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

from typing import Any

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

from reservation_service import history, lines, stays
from reservation_service.access import Actor, Reach, system
from reservation_service.bookings import Booking, check_hold_cap, load
from reservation_service.config import Settings
from reservation_service.models import ReservationStatus

S = ReservationStatus
# The booking's state machine: every other move is a 409 `invalid_transition`.
TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    S.REQUESTED: frozenset({S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.CHECKED_IN, S.CANCELLED, S.NO_SHOW}),
    S.CHECKED_IN: frozenset({S.CHECKED_OUT}),
    S.CHECKED_OUT: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.EXPIRED: frozenset(),
}
# The column stamped when a booking enters a status.
_STAMPED = {
    S.CONFIRMED: "confirmed_at",
    S.CANCELLED: "cancelled_at",
    S.CHECKED_IN: "checked_in_at",
    S.CHECKED_OUT: "checked_out_at",
}
# The history's name for entering a status.
_ACTION = {
    S.CONFIRMED: "confirmed",
    S.CANCELLED: "cancelled",
    S.CHECKED_IN: "checked_in",
    S.CHECKED_OUT: "checked_out",
    S.NO_SHOW: "no_show",
    S.EXPIRED: "expired",
}


def check_transition(booking: Booking, to: ReservationStatus) -> None:
    """409 `invalid_transition` unless the booking may move to `to` from where it is."""
    now = ReservationStatus(booking.reservation.status)
    if to not in TRANSITIONS[now]:
        raise ProblemError(
            409,
            "invalid_transition",
            f"A {now.value} booking cannot become {to.value}.",
        )


def advance(
    session: AsyncSession,
    booking: Booking,
    to: ReservationStatus,
    actor: Actor,
    changes: dict[str, Any] | None = None,
) -> None:
    """Move the booking to `to` (checked), stamp it, raise its version and record the change
    in its history, all in the caller's transaction. The caller stages the event announcing
    it (with the new version) and commits."""
    check_transition(booking, to)
    r = booking.reservation
    before = r.status
    r.status = to
    r.updated_at = now = utcnow()
    if (column := _STAMPED.get(to)) is not None:
        setattr(r, column, now)
    r.version += 1
    history.record(session, r, _ACTION[to], actor, from_status=before, changes=changes)


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
        lines=booking.event_lines(),
    )


async def confirm(
    session: AsyncSession,
    reservation_id: str,
    reach: Reach,
    actor: Actor = system("service"),
    settings: Settings | None = None,  # given: the channel's unpaid-hold cap applies
) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == ReservationStatus.CONFIRMED:
        return booking  # nothing changed
    if r.status == ReservationStatus.CANCELLED:
        raise ProblemError(409, "reservation_cancelled", "A cancelled booking cannot be confirmed.")
    check_transition(booking, ReservationStatus.CONFIRMED)
    if (passed := stays.check_in_passed(r.check_in, booking.property.timezone)) is not None:
        raise passed
    if settings is not None:
        await check_hold_cap(session, booking, settings)
    if (full := await lines.hold(session, booking)) is not None:
        raise ProblemError(
            409,
            "no_availability",
            f"No {full.code} room is free on every night from "
            f"{r.check_in.isoformat()} to {r.check_out.isoformat()}; the booking stays requested.",
        )
    advance(session, booking, ReservationStatus.CONFIRMED, actor)
    r.expires_at = None  # confirmed: it no longer expires
    add_event(session, confirmed_event(booking))
    return booking


async def cancel(
    session: AsyncSession,
    reservation_id: str,
    reach: Reach,
    reason: str | None,
    actor: Actor = system("service"),
) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == ReservationStatus.CANCELLED:
        return booking
    check_transition(booking, ReservationStatus.CANCELLED)
    was_confirmed = r.status == ReservationStatus.CONFIRMED
    if was_confirmed:
        await lines.release(session, booking)
    r.cancel_reason = reason
    advance(
        session, booking, ReservationStatus.CANCELLED, actor, {"reason": reason} if reason else None
    )
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
            currency=r.currency,
            lines=booking.event_lines(),
        ),
    )
    return booking

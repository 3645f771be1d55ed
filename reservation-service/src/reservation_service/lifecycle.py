"""A booking's life after the request: confirm (hold rooms), cancel (release them, charged by
the booking's policy), guarantee, no-show and expiry.

Each change is written together with the event that announces it (outbox), in the caller's
transaction: nothing here commits (the route, the worker or the consumer wrapper does). Every
action is idempotent by state: repeating one that already took effect returns the booking
unchanged and announces nothing again. Every change bumps the reservation's version, and its
event carries the new version: consumers may get the events in any order and use it to tell
which is newer.

Cancellation policy (docs/domain.md, A booking's life): the terms stored on the booking when it
was made (`pricing.policy_of(r.policy)`), never the plan's current ones. Cancelling a confirmed
booking is free until `free_until_hours` before arrival (the check-in day at the property's
check-in time, in its time zone); later the fee is the first night or `fee_percent` of the
stay's room amount. A request held nothing and costs nothing. Refund = paid - fee (never
below 0); paid is what the booking's folio took (`folio.paid_amount`).
"""

from datetime import date as date_type
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.contracts.reservations import (
    DepartureRequest,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationNoShow,
    TransferRequest,
)
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import assignment, folio, history, inventory, lines, pricing, stays
from reservation_service.access import Actor, Reach, system
from reservation_service.bookings import (
    Booking,
    check_hold_cap,
    clock,
    guest_contact,
    load,
    owed_guarantee,
    partner_of,
)
from reservation_service.config import Settings
from reservation_service.models import Reservation, ReservationStatus
from reservation_service.night_locks import lock_nights

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
    S.NO_SHOW: "no_show_at",
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


def departure_request(r: Reservation) -> DepartureRequest | None:
    """The booking's departure drop-off as the events carry it (None: none asked)."""
    return DepartureRequest.model_validate(r.departure) if r.departure else None


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
        guest=guest_contact(booking.reservation),
        transfer=TransferRequest(**transfer.model_dump()) if transfer else None,
        departure=departure_request(booking.reservation),
        # Absent unless included: a booking without it is announced as before issue 18.
        transfers_included=True if public.transfers_included else None,
        lines=booking.event_lines(),
        # Issue 20: the guarantee still owed (None: none asked, or met) and the clock times.
        guarantee=owed_guarantee(booking.reservation),
        check_in_time=clock(booking.property.check_in_time),
        check_out_time=clock(booking.property.check_out_time),
        partner_id=partner_of(booking.reservation),
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
    r.guarantee_due_at = guarantee_due(r, r.updated_at)
    add_event(session, confirmed_event(booking))
    return booking


def guarantee_due(r: Reservation, confirmed_at: datetime) -> datetime | None:
    """When a confirmed booking's guarantee (deposit or prepayment) must be met: `due_hours`
    after confirmation; None when its terms ask none or it is met already."""
    _, guarantee = pricing.policy_of(r.policy)
    if guarantee.kind == "none" or r.guaranteed_at is not None:
        return None
    return confirmed_at + timedelta(hours=guarantee.due_hours)


def arrival_instant(booking: Booking) -> datetime:
    """The check-in day at the property's check-in time, in its time zone."""
    prop = booking.property
    check_in_time: time = prop.check_in_time
    return datetime.combine(booking.reservation.check_in, check_in_time, ZoneInfo(prop.timezone))


def policy_fee(r: Reservation) -> int:
    """The fee the booking's stored policy charges once it is no longer free: the first night,
    or `fee_percent` of the room amount (rounded half up), never more than the total."""
    policy, _ = pricing.policy_of(r.policy)
    nights = folio.night_amounts(r)
    if policy.fee == "percent":
        fee = (sum(nights) * policy.fee_percent + 50) // 100
    else:
        fee = nights[0] if nights else 0
    return max(0, min(fee, r.total_amount))


def cancellation_fee(booking: Booking, now: datetime) -> int:
    """What cancelling the booking at `now` costs under its stored policy (0 for a request)."""
    r = booking.reservation
    if r.status != ReservationStatus.CONFIRMED:
        return 0
    policy, _ = pricing.policy_of(r.policy)
    free_until = arrival_instant(booking) - timedelta(hours=policy.free_until_hours)
    return 0 if now < free_until else policy_fee(r)


async def cancel(
    session: AsyncSession,
    reservation_id: str,
    reach: Reach,
    reason: str | None,
    actor: Actor = system("service"),
) -> Booking:
    booking = await load(session, reservation_id, reach, lock=True)
    await cancel_booking(session, booking, reason, actor)
    return booking


async def cancel_booking(
    session: AsyncSession,
    booking: Booking,
    reason: str | None,
    actor: Actor,
    *,
    reason_code: str | None = None,
    now: datetime | None = None,
) -> None:
    """Cancel a loaded (and locked) booking: release its nights, charge its policy's fee, record
    fee and refund, announce it. `reason_code` names a cancellation the system made
    (`guarantee_expired`: nothing was secured, so no fee is charged and anything paid goes
    back)."""
    r = booking.reservation
    if r.status == ReservationStatus.CANCELLED:
        return
    check_transition(booking, ReservationStatus.CANCELLED)
    now = now or utcnow()
    was_confirmed = r.status == ReservationStatus.CONFIRMED
    fee = 0 if reason_code == "guarantee_expired" else cancellation_fee(booking, now)
    paid = await folio.paid_amount(session, r.id)
    if was_confirmed:
        await lock_nights(session, [(t, r.check_in, r.check_out) for t in booking.room_type_ids()])
        await lines.release(session, booking)
        await assignment.release(session, r.id)  # the room is free for other stays at once
    r.cancel_reason = reason
    r.cancellation_fee_amount = fee
    r.refund_amount = max(0, paid - fee)
    changes: dict[str, Any] = {}
    if reason:
        changes["reason"] = reason
    if reason_code:
        changes["reason_code"] = reason_code
    if fee or paid:
        changes["cancellation_fee_amount"] = fee
        changes["refund_amount"] = r.refund_amount
    advance(session, booking, ReservationStatus.CANCELLED, actor, changes or None)
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
            guest=guest_contact(booking.reservation),
            reason_code=reason_code,
            cancellation_fee_amount=fee,
            refund_amount=r.refund_amount,
            currency=r.currency,
            lines=booking.event_lines(),
        ),
    )


async def guarantee(
    session: AsyncSession, reservation_id: str, reach: Reach, actor: Actor
) -> Booking:
    """Mark the booking's guarantee (deposit or prepayment) met: it is no longer cancelled at
    `guarantee_due_at`. Idempotent: a guaranteed booking is returned unchanged."""
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.guaranteed_at is not None:
        return booking
    if r.status not in (ReservationStatus.REQUESTED, ReservationStatus.CONFIRMED):
        raise ProblemError(
            409,
            "invalid_transition",
            f"A {r.status} booking cannot be guaranteed.",
        )
    due = r.guarantee_due_at
    r.guaranteed_at = r.updated_at = utcnow()
    r.guarantee_due_at = None
    r.version += 1
    history.record(
        session,
        r,
        "guaranteed",
        actor,
        from_status=r.status,
        changes={"guarantee_due_at": history.change(due, None)} if due else None,
    )
    # Issue 20: announced, so the guarantee reminder is dropped (no guarantee in the event,
    # `guaranteed_at` in its changes).
    from reservation_service.changes import modified_event  # changes.py imports this module

    met = {"guaranteed_at": history.change(None, r.guaranteed_at)}
    if due:
        met["guarantee_due_at"] = history.change(due, None)
    add_event(session, modified_event(booking, met))
    return booking


async def mark_no_show(
    session: AsyncSession, booking: Booking, actor: Actor, today: date_type
) -> None:
    """A confirmed booking nobody checked in by the cut-off: `no_show`, charged its policy's fee
    (first night by default), the nights from `today` (property time) on released."""
    r = booking.reservation
    check_transition(booking, ReservationStatus.NO_SHOW)
    fee = policy_fee(r)
    release_from = max(r.check_in, today)
    if release_from < r.check_out:
        rooms = sorted(booking.room_type_ids())  # a room type twice: two rooms, two holds
        await lock_nights(session, [(t, release_from, r.check_out) for t in rooms])
        for room_type_id in rooms:
            await inventory.release(session, room_type_id, release_from, r.check_out)
    await assignment.release(session, r.id)
    r.cancellation_fee_amount = fee
    advance(session, booking, ReservationStatus.NO_SHOW, actor, {"fee_amount": fee})
    add_event(
        session,
        ReservationNoShow(
            aggregate_version=r.version,
            reservation_id=r.id,
            confirmation_number=r.confirmation_number,
            property_name=booking.property.name,
            check_in=r.check_in,
            check_out=r.check_out,
            fee_amount=fee,
            currency=r.currency,
            guest=guest_contact(booking.reservation),
        ),
    )


def expire(session: AsyncSession, booking: Booking, actor: Actor) -> None:
    """A request not confirmed by `expires_at`: `expired` (it held nothing)."""
    r = booking.reservation
    advance(session, booking, ReservationStatus.EXPIRED, actor)
    add_event(
        session,
        ReservationExpired(
            aggregate_version=r.version,
            reservation_id=r.id,
            confirmation_number=r.confirmation_number,
            property_name=booking.property.name,
            check_in=r.check_in,
            check_out=r.check_out,
            guest=guest_contact(booking.reservation),
        ),
    )

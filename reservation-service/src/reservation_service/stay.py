"""Check-in and check-out: the booking's stay at the property.

Check-in (confirmed -> checked_in) needs the booking's room assigned for its dates and ready
(clean or inspected), a staff-attested ID verification (nothing of the document is kept but its
type, country and last four characters), and takes the deposit as a folio line. It may happen
from the check-in day (property time) until the day before check-out.

Check-out (checked_in -> checked_out) posts the room nights not yet on the folio, the late
check-out fee by the property's rule, and settles the folio: what the guest paid beyond the
charges (the deposit first) is refunded; a balance still owed is a 409 naming it (nothing
written: the desk takes the payment and checks out again). The room is marked dirty. A guest
leaving before the booked check-out day is an early departure: the nights after today are not
charged, their rooms are released, and the booking's check-out, nightly prices, taxes and total
become those of the stay that happened (history and `reservation.checked_out` say so).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotel_common.contracts.reservations import (
    ReservationCheckedIn,
    ReservationCheckedOut,
)
from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import assignment, folio, history, inventory, lifecycle
from reservation_service.access import Actor, Reach
from reservation_service.bookings import Booking, guest_contact, load
from reservation_service.config import Settings
from reservation_service.models import HousekeepingStatus, ReservationStatus, Room
from reservation_service.problems import invalid_field
from reservation_service.stay_models import (
    ChargeIn,
    CheckInRequest,
    ExtraCategory,
    FolioLine,
    IdVerification,
    LineKind,
    PaymentIn,
)

S = ReservationStatus
READY = (HousekeepingStatus.CLEAN, HousekeepingStatus.INSPECTED)


def local_now(timezone: str) -> datetime:
    """The property's wall clock (a function, so a test can move it)."""
    return datetime.now(ZoneInfo(timezone))


@dataclass(frozen=True)
class CheckedIn:
    booking: Booking
    room_number: str
    deposit_amount: int


async def check_in(
    session: AsyncSession,
    reservation_id: str,
    reach: Reach,
    data: CheckInRequest,
    actor: Actor,
    settings: Settings,
) -> CheckedIn:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == S.CHECKED_IN:  # idempotent by state
        return await _checked_in(session, booking)
    lifecycle.check_transition(booking, S.CHECKED_IN)
    today = local_now(booking.property.timezone).date()
    if today < r.check_in:
        raise ProblemError(
            409,
            "check_in_too_early",
            f"Check-in opens on {r.check_in.isoformat()} (today is {today.isoformat()} at the "
            "property).",
        )
    if today >= r.check_out:
        raise ProblemError(
            409, "stay_over", f"The stay ended on {r.check_out.isoformat()}: nothing to check in."
        )
    found = await assignment.current(session, booking)
    if found is None or not assignment.covers_stay(found[0], booking):
        raise ProblemError(
            409, "room_not_assigned", "Assign a room for the booking's dates before check-in."
        )
    room = found[1]
    if room.housekeeping_status not in READY:
        raise ProblemError(
            409,
            "room_not_ready",
            f"Room {room.number} is {room.housekeeping_status}: a guest checks in to a clean "
            "or inspected room (or assign another).",
        )
    proof = data.id_verification
    if not proof.attested:
        raise invalid_field(
            "id_not_verified",
            "body.id_verification.attested",
            "A member of staff must see the guest's ID and attest it.",
        )
    session.add(
        IdVerification(
            reservation_id=r.id,
            document_type=proof.document_type.value,
            issuing_country=proof.issuing_country,
            last4=proof.last4.upper() if proof.last4 else None,
            verified_by=actor.id,
        )
    )
    deposit = data.deposit
    amount = settings.check_in_deposit_amount if deposit.amount is None else deposit.amount
    if amount > 0:
        payment = PaymentIn(amount=amount, method=deposit.method, reference=deposit.reference)
        await folio.take_payment(session, booking, payment, actor, kind=LineKind.DEPOSIT)
    lifecycle.advance(
        session,
        booking,
        S.CHECKED_IN,
        actor,
        {"room_number": room.number, "deposit_amount": amount},
    )
    add_event(
        session,
        ReservationCheckedIn(
            aggregate_version=r.version,
            reservation_id=r.id,
            confirmation_number=r.confirmation_number,
            property_name=booking.property.name,
            room_number=room.number,
            check_in=r.check_in,
            check_out=r.check_out,
            guest=guest_contact(booking.reservation),
            # Issue 20: for the departure reminder.
            property_timezone=booking.property.timezone,
            check_out_time=booking.property.check_out_time.strftime("%H:%M"),
        ),
    )
    return CheckedIn(booking, room.number, amount)


async def _checked_in(session: AsyncSession, booking: Booking) -> CheckedIn:
    found = await assignment.current(session, booking)
    deposit = -sum(
        x.amount
        for x in await folio.lines(session, booking.reservation.id)
        if x.kind == LineKind.DEPOSIT.value
    )
    return CheckedIn(booking, found[1].number if found else "", deposit)


@dataclass(frozen=True)
class CheckedOut:
    booking: Booking
    nights: int
    amount_spent: int
    refunded_amount: int


async def check_out(
    session: AsyncSession, reservation_id: str, reach: Reach, actor: Actor, settings: Settings
) -> CheckedOut:
    booking = await load(session, reservation_id, reach, lock=True)
    r = booking.reservation
    if r.status == S.CHECKED_OUT:  # idempotent by state
        return await _checked_out(session, booking)
    lifecycle.check_transition(booking, S.CHECKED_OUT)
    now = local_now(booking.property.timezone)
    # The guest leaves today; a stay is at least one night (a same-day departure pays it).
    departure = max(min(now.date(), r.check_out), r.check_in + timedelta(days=1))
    await folio.post_room_nights(session, booking, departure, actor)
    await _late_check_out(session, booking, now, departure, actor, settings)
    owed = await folio.balance(session, r.id)
    if owed > 0:
        raise ProblemError(
            409,
            "folio_unsettled",
            f"The guest owes {owed} (minor units of {r.currency}) once the stay is charged: "
            "take the payment, then check out.",
            balance=owed,
            currency=r.currency,
        )
    refunded = await folio.refund_credit(session, booking, actor)
    changes: dict[str, object] = {}
    if departure < r.check_out:
        changes = await _early_departure(session, booking, departure)
    found = await assignment.current(session, booking)
    if found is not None:
        await assignment.end(session, found[0], departure)
        await session.exec(
            update(Room)
            .where(
                col(Room.id) == found[1].id,
                col(Room.housekeeping_status) != HousekeepingStatus.OUT_OF_ORDER,
            )
            .values(housekeeping_status=HousekeepingStatus.DIRTY.value)
            .execution_options(synchronize_session=False)
        )
    nights = (departure - r.check_in).days
    spent = await folio.spent_amount(session, r.id)
    lifecycle.advance(
        session,
        booking,
        S.CHECKED_OUT,
        actor,
        {**changes, "nights": nights, "amount_spent": spent, "refunded_amount": refunded},
    )
    add_event(
        session,
        ReservationCheckedOut(
            aggregate_version=r.version,
            reservation_id=r.id,
            confirmation_number=r.confirmation_number,
            property_name=booking.property.name,
            check_in=r.check_in,
            check_out=departure,
            nights=nights,
            amount_spent=spent,
            currency=r.currency,
            guest=guest_contact(booking.reservation),
        ),
    )
    return CheckedOut(booking, nights, spent, refunded)


async def _late_check_out(
    session: AsyncSession,
    booking: Booking,
    now: datetime,
    departure: date,
    actor: Actor,
    settings: Settings,
) -> None:
    """On the booked departure day, past the property's check-out time and the grace: the
    late check-out fee, unless the desk already charged one."""
    r = booking.reservation
    if departure != r.check_out or now.date() != r.check_out:
        return
    deadline = datetime.combine(r.check_out, booking.property.check_out_time, now.tzinfo)
    if now <= deadline + timedelta(minutes=settings.late_check_out_grace_minutes):
        return
    charged = (
        await session.exec(
            select(FolioLine.id).where(
                FolioLine.reservation_id == r.id,
                FolioLine.category == ExtraCategory.LATE_CHECK_OUT.value,
            )
        )
    ).first()
    if charged is None and folio.late_check_out_amount(booking, settings) > 0:
        await folio.post_charge(
            session, booking, ChargeIn(category=ExtraCategory.LATE_CHECK_OUT), actor, settings
        )


async def _early_departure(
    session: AsyncSession, booking: Booking, departure: date
) -> dict[str, object]:
    """The booking becomes the stay that happened: nights after `departure` released and not
    charged; returns the changes for the history."""
    r = booking.reservation
    await inventory.release(session, r.room_type_id, departure, r.check_out)
    kept = (departure - r.check_in).days
    amounts = folio.night_amounts(r)
    taxes = folio.tax_shares(amounts, r.tax_amount)
    new_amounts, new_tax = amounts[:kept], sum(taxes[:kept])
    changes: dict[str, object] = {
        "check_out": history.change(r.check_out, departure),
        "total_amount": history.change(r.total_amount, sum(new_amounts) + new_tax),
    }
    r.check_out = departure
    r.nightly_amounts = new_amounts
    r.tax_amount = new_tax
    r.total_amount = sum(new_amounts) + new_tax
    session.add(r)
    return changes


async def _checked_out(session: AsyncSession, booking: Booking) -> CheckedOut:
    r = booking.reservation
    refunded = sum(
        x.amount for x in await folio.lines(session, r.id) if x.kind == LineKind.REFUND.value
    )
    nights = (r.check_out - r.check_in).days
    return CheckedOut(booking, nights, await folio.spent_amount(session, r.id), refunded)

"""A booking's folio: its charges, payments, deposit and refunds, one signed line each.

The balance is never stored: it is the sum of the lines (charges and refunds +, payments and
deposits -), read by the database for the writers; the folio shown adds up the very lines it
shows. Every writer holds the booking's row lock (bookings.load with lock=True), so a payment
and a check-out of one booking run one after the other.

Room charges: one `room` line per night at the booking's agreed price (nightly_amounts), with a
`tax` line carrying that night's share of the booking's tax_amount (rounded so that the shares
add up to it exactly). A unique (reservation, kind, night) posts a night once.
"""

from datetime import date
from typing import Any

from hotel_common.bounds import INT32_MAX
from hotel_common.errors import ProblemError
from sqlalchemy import ColumnElement, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import payments
from reservation_service.access import Actor
from reservation_service.bookings import Booking
from reservation_service.config import Settings
from reservation_service.models import Reservation, ReservationStatus
from reservation_service.problems import invalid_field
from reservation_service.stay_models import (
    CHARGES,
    MONEY_IN,
    ChargeIn,
    ExtraCategory,
    Folio,
    FolioLine,
    FolioLinePublic,
    LineKind,
    PaymentIn,
    PaymentMethod,
)
from reservation_service.stays import nights

S = ReservationStatus
# Payments are taken from confirmation (a prepayment) to check-out; charges during the stay.
PAYABLE = frozenset({S.CONFIRMED, S.CHECKED_IN})
CHARGEABLE = frozenset({S.CHECKED_IN})


async def lines(session: AsyncSession, reservation_id: str) -> list[FolioLine]:
    rows = await session.exec(
        select(FolioLine)
        .where(FolioLine.reservation_id == reservation_id)
        .order_by(col(FolioLine.id))
    )
    return list(rows)


async def _sums(session: AsyncSession, reservation_id: str) -> tuple[int, int, int, int]:
    """(balance, charges, money in (payments + deposits), refunds), summed by the database."""

    def total(*kinds: LineKind) -> ColumnElement[int]:
        return func.coalesce(
            func.sum(case((col(FolioLine.kind).in_([k.value for k in kinds]), FolioLine.amount))),
            0,
        )

    row = (
        await session.exec(
            select(
                func.coalesce(func.sum(FolioLine.amount), 0),
                total(*CHARGES),
                total(*MONEY_IN),
                total(LineKind.REFUND),
            ).where(FolioLine.reservation_id == reservation_id)
        )
    ).one()
    balance, charges, money_in, refunds = (int(x) for x in row)
    return balance, charges, money_in, refunds


async def balance(session: AsyncSession, reservation_id: str) -> int:
    """What the guest owes (negative: what the hotel owes the guest)."""
    return (await _sums(session, reservation_id))[0]


async def paid_amount(session: AsyncSession, reservation_id: str) -> int:
    """Money the guest has paid on this booking and not had back (payments and deposits minus
    refunds), in minor units: what a cancellation's refund is computed from."""
    _, _, money_in, refunds = await _sums(session, reservation_id)
    return -money_in - refunds


async def spent_amount(session: AsyncSession, reservation_id: str) -> int:
    """Every charge on the folio: room nights, taxes and extras."""
    return (await _sums(session, reservation_id))[1]


async def folio_of(session: AsyncSession, booking: Booking) -> Folio:
    r = booking.reservation
    found = await lines(session, r.id)

    # The totals from the very lines shown: a second query could see a line committed since
    # (PostgreSQL reads each statement afresh) and the folio would not add up.
    def total(*kinds: LineKind) -> int:
        return sum(x.amount for x in found if x.kind in {k.value for k in kinds})

    balance_ = sum(x.amount for x in found)
    charges, money_in, refunds = total(*CHARGES), total(*MONEY_IN), total(LineKind.REFUND)
    deposits = -total(LineKind.DEPOSIT)
    return Folio(
        reservation_id=r.id,
        currency=r.currency,
        lines=[FolioLinePublic.model_validate(x, from_attributes=True) for x in found],
        charges_amount=charges,
        paid_amount=-money_in - refunds,
        deposit_amount=deposits,
        balance=balance_,
    )


def _line(
    booking: Booking, actor: Actor, kind: LineKind, amount: int, description: str, **more: Any
) -> FolioLine:
    return FolioLine(
        reservation_id=booking.reservation.id,
        kind=kind.value,
        amount=amount,
        description=description,
        currency=booking.reservation.currency,
        posted_by=actor.id,
        **more,
    )


def _require(booking: Booking, allowed: frozenset[ReservationStatus], what: str) -> None:
    status = ReservationStatus(booking.reservation.status)
    if status not in allowed:
        raise ProblemError(
            409,
            "folio_closed",
            f"A {status.value} booking takes no {what}; "
            f"allowed while {' or '.join(sorted(s.value for s in allowed))}.",
        )


def night_amounts(r: Reservation) -> list[int]:
    """The booking's agreed price of each night (a booking stored before per-night prices has
    its one nightly amount on every night)."""
    return list(r.nightly_amounts) or [r.nightly_amount] * (r.check_out - r.check_in).days


def tax_shares(nightly: list[int], tax_amount: int) -> list[int]:
    """Each night's share of the booking's tax, proportional to its price, adding up exactly."""
    room_total = sum(nightly)
    if room_total <= 0 or tax_amount == 0:
        return [0] * len(nightly)
    shares, running, before = [], 0, 0
    for amount in nightly:
        running += amount
        upto = tax_amount * running // room_total
        shares.append(upto - before)
        before = upto
    return shares


async def post_room_nights(
    session: AsyncSession, booking: Booking, until: date, actor: Actor
) -> int:
    """Post the room charge (and tax share) of every night of the stay before `until` not yet
    posted; returns how many nights were posted now."""
    r = booking.reservation
    stay = nights(r.check_in, r.check_out)
    amounts = night_amounts(r)
    taxes = tax_shares(amounts, r.tax_amount)
    posted = set(
        (
            await session.exec(
                select(col(FolioLine.night)).where(
                    FolioLine.reservation_id == r.id, FolioLine.kind == LineKind.ROOM.value
                )
            )
        ).all()
    )
    count = 0
    for night, amount, tax in zip(stay, amounts, taxes, strict=True):
        if night >= until or night in posted:
            continue
        room = f"Room {booking.room_type.code}, night of {night.isoformat()}"
        session.add(_line(booking, actor, LineKind.ROOM, amount, room, night=night))
        if tax:
            tax_text = f"Tax, night of {night.isoformat()}"
            session.add(_line(booking, actor, LineKind.TAX, tax, tax_text, night=night))
        count += 1
    await session.flush()
    return count


def late_check_out_amount(booking: Booking, settings: Settings) -> int:
    """The property's rule: a share of the last night's room price."""
    r = booking.reservation
    last = r.nightly_amounts[-1] if r.nightly_amounts else r.nightly_amount
    return last * settings.late_check_out_percent // 100


async def post_charge(
    session: AsyncSession, booking: Booking, data: ChargeIn, actor: Actor, settings: Settings
) -> FolioLine:
    _require(booking, CHARGEABLE, "charges")
    amount = data.amount
    if amount is None:
        if data.category is not ExtraCategory.LATE_CHECK_OUT:
            raise invalid_field(
                "amount_required", "body.amount", f"A {data.category.value} charge needs an amount."
            )
        amount = late_check_out_amount(booking, settings)
        if amount <= 0:
            raise ProblemError(
                409, "no_late_check_out_fee", "The property charges nothing for a late check-out."
            )
    description = data.description or data.category.value.replace("_", " ").capitalize()
    line = _line(booking, actor, LineKind.EXTRA, amount, description, category=data.category.value)
    session.add(line)
    await session.flush()
    return line


def _check_currency(booking: Booking, currency: str | None) -> None:
    if currency is not None and currency != booking.reservation.currency:
        raise invalid_field(
            "currency_mismatch",
            "body.currency",
            f"This folio is in {booking.reservation.currency}.",
        )


async def take_payment(
    session: AsyncSession,
    booking: Booking,
    data: PaymentIn,
    actor: Actor,
    kind: LineKind = LineKind.PAYMENT,
) -> FolioLine:
    """Take money through its provider and record it (a payment, or the check-in deposit)."""
    _require(booking, PAYABLE, "payments")
    _check_currency(booking, data.currency)
    # Money kept on one folio stays a storable amount: a cancellation's refund and the
    # check-out's refunds are computed from it (and each payment alone is bounded already).
    if await paid_amount(session, booking.reservation.id) + data.amount > INT32_MAX:
        raise invalid_field(
            "folio_amount_too_large",
            "body.amount",
            f"This folio already holds the most it can ({INT32_MAX} minor units in all).",
        )
    chosen = payments.provider(data.provider, data.method)
    receipt = await chosen.charge(
        data.amount, booking.reservation.currency, data.method, data.reference
    )
    what = "Deposit" if kind is LineKind.DEPOSIT else "Payment"
    line = _line(
        booking,
        actor,
        kind,
        -data.amount,
        f"{what} by {data.method.value.replace('_', ' ')}",
        method=data.method.value,
        provider=receipt.provider,
        provider_reference=receipt.reference,
    )
    session.add(line)
    await session.flush()
    return line


async def refund_credit(
    session: AsyncSession,
    booking: Booking,
    actor: Actor,
    most: int | None = None,
    why: str | None = None,
) -> int:
    """Give back what the guest is owed (a negative balance), through the deposit's provider
    and method as far as the deposit goes, then through the payments' (latest first). Returns
    the amount refunded; the balance is then zero (or what is left beyond `most`, the most
    to give back now). `why` is said on the refund lines."""
    owed = -(await balance(session, booking.reservation.id))
    if most is not None:
        owed = min(owed, most)
    if owed <= 0:
        return 0
    money_in = [
        x
        for x in await lines(session, booking.reservation.id)
        if x.kind in (LineKind.DEPOSIT.value, LineKind.PAYMENT.value)
    ]
    # The deposit first (the hold the guest expects back), then the latest payments.
    money_in.sort(key=lambda x: (x.kind != LineKind.DEPOSIT.value, -(x.id or 0)))
    left = owed
    for source in money_in:
        if left == 0:
            break
        amount = min(left, -source.amount)
        method = PaymentMethod(source.method or PaymentMethod.CASH)
        chosen = payments.provider(source.provider or "offline", method)
        receipt = await chosen.refund(amount, booking.reservation.currency, method, None)
        what = "deposit" if source.kind == LineKind.DEPOSIT.value else "payment"
        session.add(
            _line(
                booking,
                actor,
                LineKind.REFUND,
                amount,
                (
                    f"Refund of the {what} by {method.value.replace('_', ' ')}"
                    + (f": {why}" if why else "")
                )[:200],
                method=method.value,
                provider=receipt.provider,
                provider_reference=receipt.reference,
            )
        )
        left -= amount
    await session.flush()
    return owed - left

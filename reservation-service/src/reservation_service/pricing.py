"""Pricing: the one place a stay is priced, used by availability, quotes and bookings.

FOUNDATION STUB (issue 17): prices every night at the room type's base amount under the default
policy. The rates work replaces the body of `quote_stay` with rate plans, seasons, derived plans,
restrictions and taxes; its signature and `StayQuote` are the contract callers rely on.
"""

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import Property, RoomType
from reservation_service.stays import nights


@dataclass(frozen=True)
class CancellationPolicy:
    """Free until `free_until_hours` before arrival (check-in day at the property's check-in
    time); later, a fee of the first night or of `fee_percent` of the stay's room amount."""

    free_until_hours: int = 24  # manual 000 §1.4.2: free until one day before arrival
    fee: Literal["first_night", "percent"] = "first_night"
    fee_percent: int = 0


@dataclass(frozen=True)
class Guarantee:
    """What secures a confirmed booking: nothing, a deposit of `deposit_percent` of the total,
    or full prepayment, due `due_hours` after confirmation."""

    kind: Literal["none", "deposit", "prepayment"] = "none"
    deposit_percent: int = 0
    due_hours: int = 24


@dataclass(frozen=True)
class NightPrice:
    night: date
    amount: int  # minor units


@dataclass(frozen=True)
class StayQuote:
    rate_plan_id: int | None  # None: the room type's base price, no plan set up
    rate_plan_code: str
    nights: list[NightPrice]
    room_amount: int  # sum of the nights
    tax_amount: int
    total_amount: int  # room + tax
    currency: str
    policy: CancellationPolicy = field(default_factory=CancellationPolicy)
    guarantee: Guarantee = field(default_factory=Guarantee)


async def quote_stay(
    session: AsyncSession,
    prop: Property,
    room_type: RoomType,
    check_in: date,
    check_out: date,
    *,
    rate_plan_code: str | None = None,
    where: str = "body",
) -> StayQuote:
    """The stay priced per night under the plan (default: the room type's base plan).

    Raises ProblemError 422 (`unknown_rate_plan`, naming `<where>.rate_plan_code`) or 409
    (`stay_restricted`: minimum or maximum stay, closed to arrival or departure, stop-sell),
    never writes."""
    prices = [NightPrice(n, room_type.base_amount) for n in nights(check_in, check_out)]
    room = sum(p.amount for p in prices)
    return StayQuote(
        rate_plan_id=None,
        rate_plan_code="BASE",
        nights=prices,
        room_amount=room,
        tax_amount=0,
        total_amount=room,
        currency=prop.currency,
    )


def policy_snapshot(quote: StayQuote) -> dict[str, Any]:
    """What a booking stores of its quote's terms (Reservation.policy)."""
    return {"cancellation": asdict(quote.policy), "guarantee": asdict(quote.guarantee)}


def policy_of(snapshot: dict[str, Any]) -> tuple[CancellationPolicy, Guarantee]:
    """A booking's stored terms; a booking made before they were stored has the defaults."""
    return (
        CancellationPolicy(**snapshot.get("cancellation", {})),
        Guarantee(**snapshot.get("guarantee", {})),
    )

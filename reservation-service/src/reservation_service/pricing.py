"""Pricing: the one place a stay is priced, used by availability, quotes and bookings.

A stay is priced under a rate plan of its room type (default: the room type's BASE plan; a room
type without one is sold at its base amount under the default terms), night by night
(rates/engine.py), checked against the plan's restrictions, with the property's tax
(`tax_rate_bp`, basis points of the room amount, rounded half up) added. The plan's
cancellation policy and guarantee travel with the quote; a booking stores them
(`policy_snapshot`) and is charged by them later, whatever the plan says by then.
"""

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from hotel_common.bounds import INT32_MAX
from hotel_common.errors import ProblemError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import Property, RoomType
from reservation_service.problems import invalid_field
from reservation_service.rates import engine, store
from reservation_service.rates.models import BASE_CODE, RatePlan
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
class MemberDiscount:
    """The loyalty member rate applied to a stay (member_rates.py): the tier, its percentage
    and the amount taken off the room amount (minor units)."""

    tier: str
    percent: int
    amount: int


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
    transfers_included: bool = False  # the plan includes airport/station transfers (issue 18)
    member: MemberDiscount | None = None  # priced at a loyalty member rate (issue 19)


async def quote_stay(
    session: AsyncSession,
    prop: Property,
    room_type: RoomType,
    check_in: date,
    check_out: date,
    *,
    rate_plan_code: str | None = None,
    where: str = "body",
    check_restrictions: bool = True,
) -> StayQuote:
    """The stay priced per night under the plan (default: the room type's base plan).

    Raises ProblemError 422 (`unknown_rate_plan`, naming `<where>.rate_plan_code`) or 409
    (`stay_restricted`: minimum or maximum stay, closed to arrival or departure, stop-sell),
    never writes. `check_restrictions=False` prices a stay already sold (e.g. re-reading)."""
    plan, parent = await _plan_and_parent(session, room_type, rate_plan_code, where)
    if plan.id is None:  # the implicit BASE plan: nothing more to read
        data = engine.PlanData({}, {}, {})
    else:
        data = await store.plan_data(
            session,
            [room_type],
            check_in,
            check_out,
            plans=[plan] if parent is None else [plan, parent],
        )
    if check_restrictions and (broken := engine.restriction(data, plan, check_in, check_out)):
        raise restricted(broken)
    return quote_from(data, prop, room_type, plan, check_in, check_out, where=where)


_PARENT = aliased(RatePlan)


async def _plan_and_parent(
    session: AsyncSession, room_type: RoomType, code: str | None, where: str
) -> tuple[RatePlan, RatePlan | None]:
    """The plan and its parent (a derived plan's) in one read."""
    wanted = (code or BASE_CODE).strip().upper()
    row = (
        await session.exec(
            select(RatePlan, _PARENT)
            .outerjoin(_PARENT, col(_PARENT.id) == RatePlan.parent_id)
            .where(RatePlan.room_type_id == room_type.id, RatePlan.code == wanted)
        )
    ).first()
    if row is not None:
        return row[0], row[1]
    if wanted == BASE_CODE:
        return engine.implicit_base(room_type), None
    raise invalid_field(
        "unknown_rate_plan",
        f"{where}.rate_plan_code",
        f"Room type {room_type.code} has no rate plan {wanted}.",
    )


def restricted(broken: engine.Restriction) -> ProblemError:
    return ProblemError(
        409,
        "stay_restricted",
        broken.detail,
        restriction=broken.kind,
        night=broken.night.isoformat(),
    )


def quote_from(
    data: engine.PlanData,
    prop: Property,
    room_type: RoomType,
    plan: RatePlan,
    check_in: date,
    check_out: date,
    *,
    where: str = "body",
) -> StayQuote:
    """The stay priced from loaded plan data (no restriction check, no database)."""
    stay = nights(check_in, check_out)
    amounts = engine.prices(data, plan, room_type, stay)
    room = sum(amounts)
    tax = tax_of(prop, room)
    if room + tax > INT32_MAX:
        raise invalid_field(
            "stay_amount_too_large",
            f"{where}.check_out",
            "The stay's total is more than one booking can hold: book fewer nights.",
        )
    policy, guarantee = terms(plan)
    return StayQuote(
        rate_plan_id=plan.id,
        rate_plan_code=plan.code,
        nights=[NightPrice(n, a) for n, a in zip(stay, amounts, strict=True)],
        room_amount=room,
        tax_amount=tax,
        total_amount=room + tax,
        currency=prop.currency,
        policy=policy,
        guarantee=guarantee,
        transfers_included=plan.includes_transfers,
    )


def tax_of(prop: Property, room_amount: int) -> int:
    """The property's taxes on a room amount, rounded half up to a minor unit."""
    return (room_amount * prop.tax_rate_bp + 5000) // 10000


def terms_snapshot(plan: RatePlan) -> dict[str, Any]:
    """What `policy_snapshot` stores, straight from a plan."""
    return _with_transfers(plan.includes_transfers) | {
        "cancellation": {
            "free_until_hours": plan.cancel_free_until_hours,
            "fee": plan.cancel_fee,
            "fee_percent": plan.cancel_fee_percent,
        },
        "guarantee": {
            "kind": plan.guarantee_kind,
            "deposit_percent": plan.guarantee_deposit_percent,
            "due_hours": plan.guarantee_due_hours,
        },
    }


def terms(plan: RatePlan) -> tuple[CancellationPolicy, Guarantee]:
    fee: Literal["first_night", "percent"] = (
        "percent" if plan.cancel_fee == "percent" else "first_night"
    )
    kind: Literal["none", "deposit", "prepayment"] = (
        "deposit"
        if plan.guarantee_kind == "deposit"
        else "prepayment"
        if plan.guarantee_kind == "prepayment"
        else "none"
    )
    return (
        CancellationPolicy(
            free_until_hours=plan.cancel_free_until_hours,
            fee=fee,
            fee_percent=plan.cancel_fee_percent,
        ),
        Guarantee(
            kind=kind,
            deposit_percent=plan.guarantee_deposit_percent,
            due_hours=plan.guarantee_due_hours,
        ),
    )


def policy_snapshot(quote: StayQuote) -> dict[str, Any]:
    """What a booking stores of its quote's terms (Reservation.policy); `transfers_included`
    only when the plan includes transfers (older snapshots have no such key: not included)."""
    member = {"member_rate": asdict(quote.member)} if quote.member is not None else {}
    return (
        _with_transfers(quote.transfers_included)
        | {
            "cancellation": asdict(quote.policy),
            "guarantee": asdict(quote.guarantee),
        }
        | member
    )


def _with_transfers(included: bool) -> dict[str, Any]:
    return {"transfers_included": True} if included else {}


def transfers_included(snapshot: dict[str, Any] | None) -> bool:
    """Whether the terms a booking (or one of its rooms) was made with include transfers."""
    return bool((snapshot or {}).get("transfers_included"))


def policy_of(snapshot: dict[str, Any]) -> tuple[CancellationPolicy, Guarantee]:
    """A booking's stored terms; a booking made before they were stored has the defaults."""
    return (
        CancellationPolicy(**snapshot.get("cancellation", {})),
        Guarantee(**snapshot.get("guarantee", {})),
    )

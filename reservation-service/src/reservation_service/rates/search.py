"""Availability search and quotes: every sellable plan of every room type priced for a stay from
a few bulk reads (room types, plans, seasons, pushed nights, free rooms per night)."""

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.bounds import INT32_MAX
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import inventory, member_rates, pricing
from reservation_service.catalog import room_type_by_code
from reservation_service.models import PlanOffer, Property, RoomType, RoomTypeAvailability
from reservation_service.problems import invalid_field
from reservation_service.rates import engine, store
from reservation_service.rates.models import (
    BASE_CODE,
    MemberDiscountLine,
    Quote,
    QuoteNight,
    QuoteRequest,
    RatePlan,
)
from reservation_service.stays import nights


async def search(
    session: AsyncSession,
    prop: Property,
    check_in: date,
    check_out: date,
    party: int | None,
    *,
    sellable_only: bool = False,
) -> list[RoomTypeAvailability]:
    """Per room type sleeping `party`: rooms free on every night, its BASE price (today's
    fields) and every plan the stay may be booked under, cheapest first."""
    assert prop.id is not None
    query = select(RoomType).where(RoomType.property_id == prop.id)
    if party is not None:
        query = query.where(col(RoomType.capacity) >= party)
    room_types = list(
        (await session.exec(query.order_by(col(RoomType.base_amount), col(RoomType.id)))).all()
    )
    data = await store.plan_data(session, room_types, check_in, check_out)
    free = await inventory.free_per_night(session, prop.id, check_in, check_out)
    stay = nights(check_in, check_out)
    count = len(stay)
    by_room_type = data.by_room_type()
    snapshots: dict[int | None, dict[str, Any]] = {}

    def priced(plan: RatePlan, room_type: RoomType) -> tuple[list[int], int, int]:
        amounts = engine.prices(data, plan, room_type, stay)
        room = sum(amounts)
        tax = pricing.tax_of(prop, room)
        if room + tax > INT32_MAX:
            raise invalid_field(
                "stay_amount_too_large",
                "query.check_out",
                "The stay's total is more than one booking can hold: search fewer nights.",
            )
        return amounts, room, tax

    found = []
    for room_type in room_types:
        assert room_type.id is not None
        per_night = free.get(room_type.id, [0] * count)
        available = min(per_night) if per_night else 0
        plans = list(by_room_type.get(room_type.id, ()))
        base = next((p for p in plans if p.code == BASE_CODE), None)
        if base is None:
            base = engine.implicit_base(room_type)
            plans.insert(0, base)
        rack, rack_room, rack_tax = priced(base, room_type)
        offers = []
        if available > 0:
            for plan in plans:
                if engine.restriction(data, plan, check_in, check_out) is not None:
                    continue
                amounts, room, tax = (
                    (rack, rack_room, rack_tax) if plan is base else priced(plan, room_type)
                )
                policy = snapshots.get(plan.id)
                if policy is None:  # implicit BASE plans (id None) share the default terms
                    policy = snapshots[plan.id] = pricing.terms_snapshot(plan)
                offers.append(
                    PlanOffer(
                        rate_plan_id=plan.id,
                        rate_plan_code=plan.code,
                        name=plan.name,
                        kind=plan.kind,
                        nightly_amounts=amounts,
                        room_amount=room,
                        tax_amount=tax,
                        total_amount=room + tax,
                        currency=prop.currency,
                        policy=policy,
                    )
                )
            offers.sort(key=lambda o: (o.total_amount, o.rate_plan_code))
        if sellable_only and not offers:
            continue
        found.append(
            RoomTypeAvailability(
                room_type_code=room_type.code,
                name=room_type.name,
                capacity=room_type.capacity,
                bed_type=room_type.bed_type,
                available=available,
                nightly_amount=rack[0],
                total_amount=rack_room + rack_tax,
                currency=prop.currency,
                free_per_night=per_night,
                rate_plans=offers,
            )
        )
    return found


async def quote(
    session: AsyncSession, prop: Property, data: QuoteRequest, email: str | None = None
) -> Quote:
    """The stay priced under the plan, with what a booking would agree to; nothing written.
    `email`: the guest's, priced at their member rate if they are a loyalty member."""
    assert prop.id is not None
    room_type = await room_type_by_code(session, prop, data.room_type_code, "body.room_type_code")
    party = data.party
    if party > room_type.capacity:
        raise invalid_field(
            "too_many_guests",
            "body.adults" if data.adults is not None else "body.guests",
            f"Room type {room_type.code} sleeps at most {room_type.capacity} guests.",
        )
    priced = await pricing.quote_stay(
        session,
        prop,
        room_type,
        data.check_in,
        data.check_out,
        rate_plan_code=data.rate_plan_code,
    )
    priced = await member_rates.priced(session, priced, prop, email)
    assert room_type.id is not None
    free = (await inventory.free_per_night(session, prop.id, data.check_in, data.check_out)).get(
        room_type.id, []
    )
    arrival = datetime.combine(data.check_in, prop.check_in_time, ZoneInfo(prop.timezone))
    free_until = arrival - timedelta(hours=priced.policy.free_until_hours)
    guarantee = priced.guarantee
    if guarantee.kind == "prepayment":
        owed = priced.total_amount
    elif guarantee.kind == "deposit":
        owed = (priced.total_amount * guarantee.deposit_percent + 50) // 100
    else:
        owed = 0
    return Quote(
        property_id=prop.id,
        room_type_code=room_type.code,
        rate_plan_id=priced.rate_plan_id,
        rate_plan_code=priced.rate_plan_code,
        check_in=data.check_in,
        check_out=data.check_out,
        nights=len(priced.nights),
        guests=party,
        nightly=[QuoteNight(night=n.night, amount=n.amount) for n in priced.nights],
        room_amount=priced.room_amount,
        tax_rate_bp=prop.tax_rate_bp,
        tax_amount=priced.tax_amount,
        total_amount=priced.total_amount,
        currency=priced.currency,
        available=min(free) if free else 0,
        policy=pricing.policy_snapshot(priced),
        free_cancellation_until=free_until,
        guarantee_amount=owed,
        member_discount=MemberDiscountLine(**asdict(priced.member)) if priced.member else None,
    )

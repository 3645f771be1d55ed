"""Loading what pricing needs in a few bulk reads: a property's room types, their plans, the
plans' seasons and the pushed nights over a span of dates.

Free rooms per night: `free_per_night` is a private fallback (rooms of the type not out of
order, minus the rooms held that night) until inventory.free_per_night lands; the integrator
switches `free_per_night` over to it.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import (
    HousekeepingStatus,
    InventoryNight,
    Room,
    RoomType,
)
from reservation_service.rates.engine import Night, PlanData, Season
from reservation_service.rates.models import RatePlan, RatePlanNight, RatePlanSeason
from reservation_service.stays import nights


async def plan_data(
    session: AsyncSession,
    room_types: Iterable[RoomType],
    start: date,
    end: date,
    *,
    plans: Iterable[RatePlan] | None = None,
) -> PlanData:
    """Plans of `room_types` (or the `plans` given, already loaded), their seasons, and their
    pushed nights from `start` to `end` inclusive (the check-out date counts: closed to
    departure)."""
    by_id = {rt.id: rt for rt in room_types if rt.id is not None}
    if plans is None:
        query = (
            select(RatePlan)
            .where(col(RatePlan.room_type_id).in_(list(by_id)))
            .order_by(col(RatePlan.room_type_id), col(RatePlan.id))
        )
        plans = (await session.exec(query)).all()
    loaded = {p.id: p for p in plans if p.id is not None}
    seasons: dict[int, list[Season]] = defaultdict(list)
    pushed: dict[int, dict[date, Night]] = defaultdict(dict)
    if loaded:
        ids = list(loaded)
        connection = await session.connection()  # Core rows: plain tuples, no ORM per night
        season_rows = await connection.execute(
            sa_select(
                col(RatePlanSeason.rate_plan_id),
                col(RatePlanSeason.start_date),
                col(RatePlanSeason.end_date),
                col(RatePlanSeason.weekday_amount),
                col(RatePlanSeason.weekend_amount),
            )
            .where(col(RatePlanSeason.rate_plan_id).in_(ids))
            .where(col(RatePlanSeason.end_date) > start, col(RatePlanSeason.start_date) <= end)
            .order_by(col(RatePlanSeason.start_date))
        )
        for plan_id, first, after, weekday, weekend in season_rows.all():
            seasons[plan_id].append(Season(first, after, weekday, weekend))
        night_rows = await connection.execute(
            sa_select(
                col(RatePlanNight.rate_plan_id),
                col(RatePlanNight.night),
                col(RatePlanNight.amount),
                col(RatePlanNight.min_stay),
                col(RatePlanNight.max_stay),
                col(RatePlanNight.closed_to_arrival),
                col(RatePlanNight.closed_to_departure),
                col(RatePlanNight.stop_sell),
            ).where(
                col(RatePlanNight.rate_plan_id).in_(ids),
                col(RatePlanNight.night) >= start,
                col(RatePlanNight.night) <= end,
            )
        )
        for plan_id, night, amount, low, high, cta, ctd, stop in night_rows.all():
            pushed[plan_id][night] = Night(amount, low, high, cta, ctd, stop)
    return PlanData(room_types=by_id, plans=loaded, seasons=seasons, nights=pushed)


async def free_per_night(
    session: AsyncSession, property_id: int, check_in: date, check_out: date
) -> dict[int, list[int]]:
    """Room type id -> rooms free each night of [check_in, check_out), in night order.

    FALLBACK until inventory.free_per_night exists (same signature): rooms not out of order
    minus held that night, never below zero."""
    in_service = dict(
        (
            await session.exec(
                select(Room.room_type_id, func.count())
                .join(RoomType, col(RoomType.id) == Room.room_type_id)
                .where(
                    RoomType.property_id == property_id,
                    Room.housekeeping_status != HousekeepingStatus.OUT_OF_ORDER,
                )
                .group_by(col(Room.room_type_id))
            )
        ).all()
    )
    type_ids = (
        await session.exec(select(RoomType.id).where(RoomType.property_id == property_id))
    ).all()
    stay = nights(check_in, check_out)
    index = {night: i for i, night in enumerate(stay)}
    free = {tid: [in_service.get(tid, 0)] * len(stay) for tid in type_ids if tid is not None}
    held = await session.exec(
        select(
            col(InventoryNight.room_type_id), col(InventoryNight.night), col(InventoryNight.held)
        )
        .join(RoomType, col(RoomType.id) == InventoryNight.room_type_id)
        .where(
            RoomType.property_id == property_id,
            col(InventoryNight.night) >= check_in,
            col(InventoryNight.night) < check_out,
        )
    )
    for room_type_id, night, count in held.all():
        if room_type_id in free and night in index:
            i = index[night]
            free[room_type_id][i] = max(0, free[room_type_id][i] - count)
    return free

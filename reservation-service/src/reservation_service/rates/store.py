"""Loading what pricing needs in a few bulk reads: a property's room types, their plans, the
plans' seasons and the pushed nights over a span of dates.

Free rooms per night come from `inventory.free_per_night` (out-of-order periods counted).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import (
    RoomType,
)
from reservation_service.rates.engine import Night, PlanData, Season
from reservation_service.rates.models import RatePlan, RatePlanNight, RatePlanSeason


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
    if plans is None:
        room_type_ids = [rt.id for rt in room_types if rt.id is not None]
        query = (
            select(RatePlan)
            .where(col(RatePlan.room_type_id).in_(room_type_ids))
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
    return PlanData(plans=loaded, seasons=seasons, nights=pushed)

"""Pricing and restrictions as pure functions over loaded rows (no database here), so a search
over many room types and plans prices everything from a few bulk reads.

Price of a night on a base plan, first that applies: the amount pushed for that night (ARI);
the season covering it (its weekend amount on Friday and Saturday nights, else its weekday
amount); the plan's weekend or weekday amount; the room type's base amount. A derived plan's
night is its parent's less `discount_bp` basis points, rounded half up to a minor unit.

Restrictions of a stay (a derived plan is bound by its parent's and its own): stop-sell on any
night; closed to arrival on the check-in night; closed to departure on the check-out date;
minimum and maximum stay as set on the arrival night.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from reservation_service.models import RoomType
from reservation_service.rates.models import (
    BASE_CODE,
    PlanKind,
    RatePlan,
    RatePlanNight,
    RatePlanSeason,
)

WEEKEND_NIGHTS = frozenset({5, 6})  # ISO weekday of the night: Friday and Saturday


def implicit_base(room_type: RoomType) -> RatePlan:
    """The plan a room type without a BASE row is sold under: its base amount, default terms."""
    assert room_type.id is not None
    return RatePlan(id=None, room_type_id=room_type.id, code=BASE_CODE, name="Base rate")


@dataclass(frozen=True)
class Restriction:
    kind: str  # stop_sell, closed_to_arrival, closed_to_departure, min_stay, max_stay
    night: date
    detail: str


@dataclass
class PlanData:
    """What pricing needs of one property's plans over a span of dates."""

    room_types: Mapping[int, RoomType]
    plans: Mapping[int, RatePlan]  # by id
    seasons: Mapping[int, Sequence[RatePlanSeason]]  # by plan id
    nights: Mapping[tuple[int, date], RatePlanNight]  # by (plan id, night)

    def parent(self, plan: RatePlan) -> RatePlan | None:
        return self.plans.get(plan.parent_id) if plan.parent_id is not None else None

    def night(self, plan: RatePlan, night: date) -> RatePlanNight | None:
        return None if plan.id is None else self.nights.get((plan.id, night))


def _season_for(seasons: Sequence[RatePlanSeason], night: date) -> RatePlanSeason | None:
    for season in seasons:
        if season.start_date <= night < season.end_date:
            return season
    return None


def base_price(data: PlanData, plan: RatePlan, room_type: RoomType, night: date) -> int:
    pushed = data.night(plan, night)
    if pushed is not None and pushed.amount is not None:
        return pushed.amount
    weekend = night.isoweekday() in WEEKEND_NIGHTS
    season = _season_for(data.seasons.get(plan.id, ()) if plan.id else (), night)
    if season is not None:
        if weekend and season.weekend_amount is not None:
            return season.weekend_amount
        return season.weekday_amount
    weekday = plan.weekday_amount if plan.weekday_amount is not None else room_type.base_amount
    if weekend and plan.weekend_amount is not None:
        return plan.weekend_amount
    return weekday


def discounted(amount: int, discount_bp: int) -> int:
    return (amount * (10000 - discount_bp) + 5000) // 10000


def prices(data: PlanData, plan: RatePlan, room_type: RoomType, nights: list[date]) -> list[int]:
    parent = data.parent(plan)
    if plan.kind == PlanKind.DERIVED and parent is not None:
        return [
            discounted(base_price(data, parent, room_type, n), plan.discount_bp) for n in nights
        ]
    return [base_price(data, plan, room_type, n) for n in nights]


def restriction(
    data: PlanData, plan: RatePlan, check_in: date, check_out: date
) -> Restriction | None:
    """The first restriction the stay breaks under `plan` (and its parent), or None."""
    chain = [p for p in (data.parent(plan), plan) if p is not None and p.id is not None]
    if not chain:
        return None
    count = (check_out - check_in).days
    for p in chain:
        arrival = data.night(p, check_in)
        if arrival is not None:
            if arrival.closed_to_arrival:
                return Restriction(
                    "closed_to_arrival", check_in, f"No arrivals on {check_in} under {p.code}."
                )
            if arrival.min_stay is not None and count < arrival.min_stay:
                return Restriction(
                    "min_stay",
                    check_in,
                    f"Arriving on {check_in} under {p.code}, a stay is at least "
                    f"{arrival.min_stay} nights.",
                )
            if arrival.max_stay is not None and count > arrival.max_stay:
                return Restriction(
                    "max_stay",
                    check_in,
                    f"Arriving on {check_in} under {p.code}, a stay is at most "
                    f"{arrival.max_stay} nights.",
                )
        departure = data.night(p, check_out)
        if departure is not None and departure.closed_to_departure:
            return Restriction(
                "closed_to_departure", check_out, f"No departures on {check_out} under {p.code}."
            )
        for i in range(count):
            night = date.fromordinal(check_in.toordinal() + i)
            row = data.night(p, night)
            if row is not None and row.stop_sell:
                return Restriction(
                    "stop_sell", night, f"{p.code} is not sold for the night of {night}."
                )
    return None

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


@dataclass(frozen=True, slots=True)
class Night:
    """A plan's pushed night as pricing reads it (a plain copy of a RatePlanNight row)."""

    amount: int | None
    min_stay: int | None
    max_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool
    stop_sell: bool


@dataclass(frozen=True, slots=True)
class Season:
    start: date
    end: date
    weekday_amount: int
    weekend_amount: int | None


@dataclass
class PlanData:
    """What pricing needs of one property's plans over a span of dates: plain values, read in
    bulk, so pricing many plans over many nights touches no ORM attribute per night."""

    plans: Mapping[int, RatePlan]  # by id
    seasons: Mapping[int, Sequence[Season]]  # by plan id, in date order
    nights: Mapping[int, Mapping[date, Night]]  # by plan id, then night

    def parent(self, plan: RatePlan) -> RatePlan | None:
        return self.plans.get(plan.parent_id) if plan.parent_id is not None else None

    def night(self, plan: RatePlan, night: date) -> Night | None:
        if plan.id is None:
            return None
        pushed = self.nights.get(plan.id)
        return pushed.get(night) if pushed else None

    def by_room_type(self) -> dict[int, list[RatePlan]]:
        grouped: dict[int, list[RatePlan]] = {}
        for plan in self.plans.values():
            grouped.setdefault(plan.room_type_id, []).append(plan)
        return grouped


_NO_NIGHTS: Mapping[date, Night] = {}


def base_prices(data: PlanData, plan: RatePlan, room_type: RoomType, stay: list[date]) -> list[int]:
    """A base plan's price of each night of `stay` (rules in the module's docstring)."""
    pushed = data.nights.get(plan.id, _NO_NIGHTS) if plan.id is not None else _NO_NIGHTS
    seasons = data.seasons.get(plan.id, ()) if plan.id is not None else ()
    weekday = plan.weekday_amount if plan.weekday_amount is not None else room_type.base_amount
    weekend = plan.weekend_amount if plan.weekend_amount is not None else weekday
    amounts = []
    for night in stay:
        row = pushed.get(night)
        if row is not None and row.amount is not None:
            amounts.append(row.amount)
            continue
        is_weekend = night.isoweekday() in WEEKEND_NIGHTS
        for season in seasons:
            if season.start <= night < season.end:
                if is_weekend and season.weekend_amount is not None:
                    amounts.append(season.weekend_amount)
                else:
                    amounts.append(season.weekday_amount)
                break
        else:
            amounts.append(weekend if is_weekend else weekday)
    return amounts


def discounted(amount: int, discount_bp: int) -> int:
    return (amount * (10000 - discount_bp) + 5000) // 10000


def prices(data: PlanData, plan: RatePlan, room_type: RoomType, nights: list[date]) -> list[int]:
    parent = data.parent(plan)
    if plan.kind == PlanKind.DERIVED and parent is not None:
        off = plan.discount_bp
        return [discounted(a, off) for a in base_prices(data, parent, room_type, nights)]
    return base_prices(data, plan, room_type, nights)


def restriction(
    data: PlanData, plan: RatePlan, check_in: date, check_out: date
) -> Restriction | None:
    """The first restriction the stay breaks under `plan` (and its parent), or None."""
    chain = [p for p in (data.parent(plan), plan) if p is not None and p.id in data.nights]
    if not chain:  # neither has a pushed night in the span: nothing restricts
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
        pushed = data.nights.get(p.id, _NO_NIGHTS) if p.id is not None else _NO_NIGHTS
        stopped = [n for n, row in pushed.items() if row.stop_sell and check_in <= n < check_out]
        if stopped:
            night = min(stopped)
            return Restriction(
                "stop_sell", night, f"{p.code} is not sold for the night of {night}."
            )
    return None

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from hotel_common.bounds import RowId
from hotel_common.contract import answers
from hotel_common.deps import SessionDep
from hotel_common.principal import Principal, require
from hotel_common.time import IsoDate
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import analytics
from reservation_service.access import DESK, check_property
from reservation_service.api.contract import FORBIDDEN, UNAUTHENTICATED, VALIDATION
from reservation_service.catalog import resolve_property
from reservation_service.models import Property
from reservation_service.problems import invalid_field

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

# A dashboard reads at most a year (and a day) at once.
MAX_RANGE_DAYS = 366
RANGE_ERRORS = (
    UNAUTHENTICATED
    | FORBIDDEN
    | {
        409: "no_property",
        422: f"{VALIDATION}, to_not_after_from, range_too_long, unknown_property or "
        "property_required",
    }
)
Staff = Annotated[Principal, Depends(require(*DESK))]
PropertyId = Annotated[RowId | None, Query(description="Defaults to the only property")]
From = Annotated[IsoDate, Query(alias="from", description="First night (or day), property time")]
To = Annotated[IsoDate, Query(alias="to", description="Day after the last night, exclusive")]


async def _property(
    session: AsyncSession, principal: Principal, property_id: int | None
) -> Property:
    prop = await resolve_property(session, property_id, "query")
    check_property(principal, prop)
    return prop


_FIGURES = {
    "rooms_available": 40,
    "rooms_sold": 30,
    "room_revenue": 1584000,
    "occupancy": 0.75,
    "adr": 52800,
    "revpar": 39600,
}
OCCUPANCY = {
    "property_id": 1,
    "currency": "CNY",
    "nights": [{"night": "2027-03-01", **_FIGURES}],
    "period": _FIGURES,
}
DAY = {
    "property_id": 1,
    "date": "2027-03-01",
    "arrivals": {"expected": 12, "arrived": 5, "no_show": 0},
    "departures": {"expected": 8, "departed": 6},
    "in_house": {"rooms": 30, "guests": 52, "checked_in": 18},
}
PICKUP = {
    "property_id": 1,
    "currency": "CNY",
    "days": [
        {
            "booked_on": "2027-02-14",
            "bookings": 4,
            "sold": 3,
            "cancelled": 1,
            "room_nights": 7,
            "room_revenue": 369600,
        }
    ],
}
CHANNEL_MIX = {
    "property_id": 1,
    "currency": "CNY",
    "channels": [
        {
            "channel": "ota_a",
            "bookings": 10,
            "room_nights": 24,
            "room_revenue": 1267200,
            "share": 0.6,
        }
    ],
}
CANCELLATIONS = {
    "property_id": 1,
    "confirmed_bookings": 50,
    "cancelled": 6,
    "no_show": 1,
    "cancellation_rate": 0.12,
    "no_show_rate": 0.02,
    "requests_cancelled": 3,
    "requests_expired": 2,
}
STAY_PATTERNS = {
    "property_id": 1,
    "bookings": 2,
    "average_length_of_stay": 2.5,
    "average_lead_time_days": 10.0,
    "length_of_stay": [{"nights": 2, "bookings": 1}, {"nights": 3, "bookings": 1}],
    "lead_time": [{"from_days": 8, "to_days": 30, "bookings": 2}],
}


def _range(first: date, end: date) -> None:
    if end <= first:
        raise invalid_field("to_not_after_from", "query.to", "to must be after from.")
    if (end - first).days > MAX_RANGE_DAYS:
        raise invalid_field(
            "range_too_long", "query.to", f"A range is at most {MAX_RANGE_DAYS} days."
        )


async def _over_range(
    session: AsyncSession,
    principal: Principal,
    property_id: int | None,
    first: date,
    end: date,
    read: Callable[[AsyncSession, Property, date, date], Awaitable[Any]],
    rows: str | None = None,
) -> dict[str, Any]:
    """The range checked, the property resolved and checked, then `read` over the range: its
    figures beside the property id, or (with `rows`) its rows under that key, with the
    property's currency."""
    _range(first, end)
    prop = await _property(session, principal, property_id)
    found = await read(session, prop, first, end)
    if rows is None:
        return {"property_id": prop.id, **found}
    return {"property_id": prop.id, "currency": prop.currency, rows: found}


class Figures(BaseModel):
    rooms_available: int
    rooms_sold: int
    room_revenue: int
    occupancy: float
    adr: int
    revpar: int


class NightFigures(Figures):
    night: date


class Occupancy(BaseModel):
    property_id: int
    currency: str
    nights: list[NightFigures]
    period: Figures


@router.get(
    "/occupancy",
    response_model=Occupancy,
    summary="Occupancy, ADR and RevPAR per night and for the period",
    responses=answers(200, OCCUPANCY, RANGE_ERRORS),
)
async def get_occupancy(
    session: SessionDep, principal: Staff, first: From, end: To, property_id: PropertyId = None
) -> Any:
    """Per night from `from` to before `to`, and for the whole period: rooms available (in
    service), rooms sold (confirmed, checked-in and checked-out bookings), room revenue
    (nightly prices, taxes excluded, minor units), occupancy (sold / available, 0-1), ADR
    (revenue / sold) and RevPAR (revenue / available). Desk staff and managers of the
    property."""
    return await _over_range(session, principal, property_id, first, end, analytics.occupancy)


class Arrivals(BaseModel):
    expected: int
    arrived: int
    no_show: int


class Departures(BaseModel):
    expected: int
    departed: int


class InHouse(BaseModel):
    rooms: int
    guests: int
    checked_in: int


class Day(BaseModel):
    property_id: int
    date: date
    arrivals: Arrivals
    departures: Departures
    in_house: InHouse


@router.get(
    "/day",
    response_model=Day,
    summary="Arrivals, departures and in-house for a day",
    responses=answers(200, DAY, RANGE_ERRORS),
)
async def get_day(
    session: SessionDep,
    principal: Staff,
    on: Annotated[IsoDate, Query(alias="date", description="The day, property time")],
    property_id: PropertyId = None,
) -> Any:
    """Arrivals (confirmed bookings still expected, arrived, no-shows), departures (expected,
    departed) and the house that night (rooms and guests sold, of which checked in). Desk
    staff and managers of the property."""
    prop = await _property(session, principal, property_id)
    return {"property_id": prop.id, **await analytics.day(session, prop, on)}


class PickupDay(BaseModel):
    booked_on: date
    bookings: int
    sold: int
    cancelled: int
    room_nights: int
    room_revenue: int


class Pickup(BaseModel):
    property_id: int
    currency: str
    days: list[PickupDay]


@router.get(
    "/pickup",
    response_model=Pickup,
    summary="Bookings made per day for a range of nights",
    responses=answers(200, PICKUP, RANGE_ERRORS),
)
async def get_pickup(
    session: SessionDep, principal: Staff, first: From, end: To, property_id: PropertyId = None
) -> Any:
    """For the nights from `from` to before `to` (usually future ones): per day on which
    bookings were made (property time), the bookings made that touch those nights, how many
    are sold now and how many were cancelled, and the sold room nights and revenue within
    the range. Desk staff and managers of the property."""
    return await _over_range(
        session, principal, property_id, first, end, analytics.pickup, rows="days"
    )


class ChannelShare(BaseModel):
    channel: str
    bookings: int
    room_nights: int
    room_revenue: int
    share: float


class ChannelMix(BaseModel):
    property_id: int
    currency: str
    channels: list[ChannelShare]


@router.get(
    "/channel-mix",
    response_model=ChannelMix,
    summary="Room nights and revenue per channel",
    responses=answers(200, CHANNEL_MIX, RANGE_ERRORS),
)
async def get_channel_mix(
    session: SessionDep, principal: Staff, first: From, end: To, property_id: PropertyId = None
) -> Any:
    """Per channel, the sold bookings, room nights and revenue on the nights from `from` to
    before `to`, and its share of the room nights (0-1), largest first. Desk staff and
    managers of the property."""
    return await _over_range(
        session, principal, property_id, first, end, analytics.channel_mix, rows="channels"
    )


class Cancellations(BaseModel):
    property_id: int
    confirmed_bookings: int
    cancelled: int
    no_show: int
    cancellation_rate: float
    no_show_rate: float
    requests_cancelled: int
    requests_expired: int


@router.get(
    "/cancellations",
    response_model=Cancellations,
    summary="Cancellation and no-show rates",
    responses=answers(200, CANCELLATIONS, RANGE_ERRORS),
)
async def get_cancellations(
    session: SessionDep, principal: Staff, first: From, end: To, property_id: PropertyId = None
) -> Any:
    """Of the bookings arriving from `from` to before `to` that were ever confirmed: the
    share cancelled and the share that did not show (0-1); besides, the requests cancelled or
    expired before confirmation. Desk staff and managers of the property."""
    return await _over_range(session, principal, property_id, first, end, analytics.cancellations)


class LengthCount(BaseModel):
    nights: int
    bookings: int


class LeadBucket(BaseModel):
    from_days: int
    to_days: int | None
    bookings: int


class StayPatterns(BaseModel):
    property_id: int
    bookings: int
    average_length_of_stay: float
    average_lead_time_days: float
    length_of_stay: list[LengthCount]
    lead_time: list[LeadBucket]


@router.get(
    "/stay-patterns",
    response_model=StayPatterns,
    summary="Lead time and length of stay",
    responses=answers(200, STAY_PATTERNS, RANGE_ERRORS),
)
async def get_stay_patterns(
    session: SessionDep, principal: Staff, first: From, end: To, property_id: PropertyId = None
) -> Any:
    """Of the sold bookings arriving from `from` to before `to`: average length of stay and
    lead time (days from the booking day to arrival), the number of bookings per length and
    per lead-time bucket (0, 1-7, 8-30, 31-90, 91+ days). Desk staff and managers of the
    property."""
    return await _over_range(session, principal, property_id, first, end, analytics.stay_patterns)

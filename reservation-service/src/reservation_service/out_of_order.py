"""Out-of-order periods: a room out of service for a range of nights (a repair, a renovation).

A period covers the nights from `from_date` to before `to_date`, property time. Availability
and holds (inventory.py) do not count the room on those nights; before and after it sells as
usual. This differs from the `out_of_order` housekeeping status, which takes the room out of
every night until it gets another status.

A period may be set on nights already sold out: a broken room is broken. The answer names the
nights on which the room type now has more rooms held than in service (`held_beyond_rooms`),
so the desk moves those bookings. Periods of one room never overlap (the room's row lock, taken
before the check, orders concurrent creations). Ending a period early sets `to_date` to today
(the room sells again from tonight), or to `from_date` if it had not begun; rows are never
deleted, so the record of what happened stays.
"""

from datetime import date

from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Principal
from hotel_common.time import utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from reservation_service import ari_changes, catalog, inventory
from reservation_service.access import in_properties
from reservation_service.models import (
    OutOfOrderCreate,
    OutOfOrderPeriod,
    OutOfOrderPublic,
    Property,
    Room,
    RoomType,
)
from reservation_service.problems import invalid_field
from reservation_service.stays import nights, today_at

# The longest period: a renovation of two years is two periods.
MAX_PERIOD_DAYS = 730


def public(
    period: OutOfOrderPeriod, number: str, code: str, short: list[date] | None = None
) -> OutOfOrderPublic:
    return OutOfOrderPublic.model_validate(
        {
            **period.model_dump(),
            "room_number": number,
            "room_type_code": code,
            "held_beyond_rooms": short or [],
        }
    )


async def _short_nights(
    session: AsyncSession, prop: Property, room_type_id: int, first: date, end: date
) -> list[date]:
    assert prop.id is not None
    if end <= first:
        return []
    balance = (await inventory.rooms_balance(session, prop.id, first, end)).get(room_type_id, [])
    return [night for night, left in zip(nights(first, end), balance, strict=False) if left < 0]


async def create(
    session: AsyncSession, principal: Principal, data: OutOfOrderCreate
) -> OutOfOrderPublic:
    """Take a room out of service for a range of nights. Never commits."""
    room, code = await catalog.room_of(session, principal, data.room_id, lock=True)
    prop = await session.get(Property, room.property_id)
    assert prop is not None and prop.id is not None
    if data.to_date <= data.from_date:
        raise invalid_field(
            "to_date_not_after_from_date", "body.to_date", "to_date must be after from_date."
        )
    today = today_at(prop.timezone)
    if data.from_date < today:
        raise invalid_field(
            "from_date_in_past",
            "body.from_date",
            f"from_date is before today ({today.isoformat()}) at the property.",
        )
    if (data.to_date - data.from_date).days > MAX_PERIOD_DAYS:
        raise invalid_field(
            "period_too_long", "body.to_date", f"A period is at most {MAX_PERIOD_DAYS} nights."
        )
    overlapping = (
        await session.exec(
            select(OutOfOrderPeriod).where(
                OutOfOrderPeriod.room_id == room.id,
                col(OutOfOrderPeriod.from_date) < data.to_date,
                col(OutOfOrderPeriod.to_date) > data.from_date,
            )
        )
    ).first()
    if overlapping is not None:
        raise ProblemError(
            409,
            "out_of_order_overlaps",
            f"Room {room.number} is already out of order from {overlapping.from_date} to "
            f"{overlapping.to_date} (period {overlapping.id}).",
        )
    period = OutOfOrderPeriod(
        room_id=data.room_id,
        property_id=prop.id,
        from_date=data.from_date,
        to_date=data.to_date,
        reason=data.reason,
        created_by=principal.id,
    )
    session.add(period)
    await session.flush()
    await ari_changes.mark(session, room.room_type_id, data.from_date, data.to_date)
    short = await _short_nights(session, prop, room.room_type_id, data.from_date, data.to_date)
    return public(period, room.number, code, short)


def _reached(principal: Principal) -> Select[OutOfOrderPeriod, str, str]:
    return (
        select(OutOfOrderPeriod, Room.number, RoomType.code)
        .join(Room, col(Room.id) == OutOfOrderPeriod.room_id)
        .join(RoomType, col(RoomType.id) == Room.room_type_id)
        .where(in_properties(principal))
    )


async def listed(
    session: AsyncSession,
    principal: Principal,
    paging: Paging,
    *,
    property_id: int | None,
    room_id: int | None,
    on_or_after: date | None,
    before: date | None,
) -> Page[OutOfOrderPublic]:
    """The periods of the caller's properties, oldest first; `on_or_after`/`before` keep those
    covering a night of that range (empty, ended-before-they-began periods never do)."""
    query = _reached(principal)
    if property_id is not None:
        query = query.where(OutOfOrderPeriod.property_id == property_id)
    if room_id is not None:
        query = query.where(OutOfOrderPeriod.room_id == room_id)
    if on_or_after is not None:
        query = query.where(col(OutOfOrderPeriod.to_date) > on_or_after)
    if before is not None:
        query = query.where(col(OutOfOrderPeriod.from_date) < before)
    if on_or_after is not None or before is not None:
        query = query.where(col(OutOfOrderPeriod.to_date) > col(OutOfOrderPeriod.from_date))
    page = await keyset_page(session, query, paging, col(OutOfOrderPeriod.id))
    return page.map(lambda row: public(*row))


async def end(session: AsyncSession, principal: Principal, period_id: int) -> OutOfOrderPublic:
    """Put the room back in service from tonight (or cancel a period not yet begun). A period
    already ended, or already over, answers unchanged. Never commits."""
    query = _reached(principal).where(OutOfOrderPeriod.id == period_id)
    found = (await session.exec(query.with_for_update(of=OutOfOrderPeriod))).first()
    if found is None:
        raise ProblemError(
            404, "out_of_order_not_found", f"No out-of-order period with id {period_id}."
        )
    period, number, code = found
    prop = await session.get(Property, period.property_id)
    assert prop is not None
    today = today_at(prop.timezone)
    if period.ended_at is not None or period.to_date <= today:
        return public(period, number, code)
    back_from, until = max(period.from_date, today), period.to_date
    period.to_date = back_from
    period.ended_at = utcnow()
    period.ended_by = principal.id
    session.add(period)
    await session.flush()
    room = await session.get(Room, period.room_id)
    assert room is not None
    await ari_changes.mark(session, room.room_type_id, back_from, until)
    return public(period, number, code)

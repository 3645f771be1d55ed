"""The hotel's catalog: properties, their room types and rooms.

The platform runs one property today; every request may name one (`property_id`) and defaults
to the only one, so a second property later needs no change of the API.
"""

from hotel_common.errors import ProblemError
from hotel_common.pagination import int_cursor, split_page
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import (
    HousekeepingStatus,
    Property,
    PropertyCreate,
    Room,
    RoomCreate,
    RoomPublic,
    RoomType,
    RoomTypeCreate,
    RoomTypePublic,
)
from reservation_service.problems import invalid_field


async def resolve_property(session: AsyncSession, property_id: int | None, where: str) -> Property:
    if property_id is not None:
        found = await session.get(Property, property_id)
        if found is None:
            raise invalid_field(
                "unknown_property", f"{where}.property_id", f"No property with id {property_id}."
            )
        return found
    first_two = (await session.exec(select(Property).order_by(col(Property.id)).limit(2))).all()
    if not first_two:
        raise ProblemError(409, "no_property", "No property has been set up yet.")
    if len(first_two) > 1:
        raise invalid_field(
            "property_required", f"{where}.property_id", "Several properties exist: name one."
        )
    return first_two[0]


async def room_type_by_code(
    session: AsyncSession, prop: Property, code: str, field: str
) -> RoomType:
    found = (
        await session.exec(
            select(RoomType).where(RoomType.property_id == prop.id, RoomType.code == code)
        )
    ).first()
    if found is None:
        raise invalid_field("unknown_room_type", field, f"No room type with code {code}.")
    return found


async def _commit_unique(session: AsyncSession, code: str, detail: str) -> None:
    """Commit; a unique constraint lost to a concurrent insert becomes a 409."""
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ProblemError(409, code, detail) from exc


# -- properties ------------------------------------------------------------------------------------


async def create_property(session: AsyncSession, data: PropertyCreate) -> Property:
    taken = f"A property named {data.name} exists."
    if (await session.exec(select(Property).where(Property.name == data.name))).first():
        raise ProblemError(409, "property_exists", taken)
    prop = Property.model_validate(data)
    session.add(prop)
    await _commit_unique(session, "property_exists", taken)
    return prop


async def list_properties(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[Property], str | None]:
    query = select(Property).order_by(col(Property.id)).limit(limit + 1)
    if (after := int_cursor(cursor)) is not None:
        query = query.where(col(Property.id) > after)
    rows = list((await session.exec(query)).all())
    return split_page(rows, limit, lambda p: str(p.id))


# -- room types ------------------------------------------------------------------------------------


def room_type_public(room_type: RoomType, currency: str) -> RoomTypePublic:
    return RoomTypePublic.model_validate({**room_type.model_dump(), "currency": currency})


async def create_room_type(session: AsyncSession, data: RoomTypeCreate) -> RoomTypePublic:
    prop = await resolve_property(session, data.property_id, "body")
    taken = f"Room type {data.code} exists at property {prop.id}."
    existing = await session.exec(
        select(RoomType).where(RoomType.property_id == prop.id, RoomType.code == data.code)
    )
    if existing.first():
        raise ProblemError(409, "room_type_exists", taken)
    room_type = RoomType.model_validate(data, update={"property_id": prop.id})
    session.add(room_type)
    await _commit_unique(session, "room_type_exists", taken)
    return room_type_public(room_type, prop.currency)


async def list_room_types(
    session: AsyncSession, property_id: int | None, limit: int, cursor: str | None
) -> tuple[list[RoomTypePublic], str | None]:
    query = (
        select(RoomType, Property.currency)
        .join(Property, col(Property.id) == RoomType.property_id)
        .order_by(col(RoomType.id))
        .limit(limit + 1)
    )
    if property_id is not None:
        query = query.where(RoomType.property_id == property_id)
    if (after := int_cursor(cursor)) is not None:
        query = query.where(col(RoomType.id) > after)
    rows = [room_type_public(rt, currency) for rt, currency in (await session.exec(query)).all()]
    return split_page(rows, limit, lambda rt: str(rt.id))


# -- rooms -----------------------------------------------------------------------------------------


async def create_room(session: AsyncSession, data: RoomCreate) -> RoomPublic:
    prop = await resolve_property(session, data.property_id, "body")
    room_type = await room_type_by_code(session, prop, data.room_type, "body.room_type")
    taken = f"Room {data.number} exists."
    if (await session.exec(select(Room).where(Room.number == data.number))).first():
        raise ProblemError(409, "room_number_taken", taken)
    room = Room.model_validate(data, update={"room_type_id": room_type.id})
    session.add(room)
    await _commit_unique(session, "room_number_taken", taken)
    return RoomPublic.model_validate({**room.model_dump(), "room_type": room_type.code})


async def list_rooms(
    session: AsyncSession,
    *,
    property_id: int | None,
    room_type: str | None,
    status: HousekeepingStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[RoomPublic], str | None]:
    query = (
        select(Room, RoomType.code)
        .join(RoomType, col(RoomType.id) == Room.room_type_id)
        .order_by(col(Room.id))
        .limit(limit + 1)
    )
    if property_id is not None:
        query = query.where(RoomType.property_id == property_id)
    if room_type is not None:
        query = query.where(RoomType.code == room_type.strip().upper())
    if status is not None:
        query = query.where(Room.housekeeping_status == status)
    if (after := int_cursor(cursor)) is not None:
        query = query.where(col(Room.id) > after)
    rows = [
        RoomPublic.model_validate({**room.model_dump(), "room_type": code})
        for room, code in (await session.exec(query)).all()
    ]
    return split_page(rows, limit, lambda r: str(r.id))

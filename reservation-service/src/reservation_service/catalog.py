"""The hotel's catalog: properties, their room types and rooms.

The platform runs one property today; every request may name one (`property_id`) and defaults
to the only one, so a second property later needs no change of the API.
"""

from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.principal import Principal
from hotel_common.uniques import insert_unique
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import ari_changes
from reservation_service.access import check_property, in_properties
from reservation_service.models import (
    HousekeepingStatus,
    Property,
    PropertyCreate,
    PropertyPublic,
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


async def property_with_room_type(
    session: AsyncSession, property_id: int | None, code: str, where: str
) -> tuple[Property, RoomType | None]:
    """`resolve_property` and the property's room type `code` (None if it has none) in one
    round trip: a booking request needs both."""
    query = (
        select(Property, RoomType)
        .outerjoin(
            RoomType, (col(RoomType.property_id) == Property.id) & (col(RoomType.code) == code)
        )
        .order_by(col(Property.id))
    )
    if property_id is not None:
        query = query.where(Property.id == property_id)
    rows = (await session.exec(query.limit(2))).all()
    if property_id is not None and not rows:
        raise invalid_field(
            "unknown_property", f"{where}.property_id", f"No property with id {property_id}."
        )
    if not rows:
        raise ProblemError(409, "no_property", "No property has been set up yet.")
    if len(rows) > 1:
        raise invalid_field(
            "property_required", f"{where}.property_id", "Several properties exist: name one."
        )
    prop, room_type = rows[0]
    return prop, room_type


def known_room_type(room_type: RoomType | None, code: str, field: str) -> RoomType:
    if room_type is None:
        raise invalid_field("unknown_room_type", field, f"No room type with code {code}.")
    return room_type


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


# -- properties ------------------------------------------------------------------------------------


async def create_property(session: AsyncSession, data: PropertyCreate) -> Property:
    taken = f"A property named {data.name} exists."
    if (await session.exec(select(Property).where(Property.name == data.name))).first():
        raise ProblemError(409, "property_exists", taken)
    return await insert_unique(session, Property.model_validate(data), "property_exists", taken)


async def list_properties(session: AsyncSession, paging: Paging) -> Page[PropertyPublic]:
    page = await keyset_page(session, select(Property), paging, col(Property.id))
    return page.map(PropertyPublic.model_validate)


# -- room types ------------------------------------------------------------------------------------


def room_type_public(room_type: RoomType, currency: str) -> RoomTypePublic:
    return RoomTypePublic.model_validate({**room_type.model_dump(), "currency": currency})


async def create_room_type(
    session: AsyncSession, data: RoomTypeCreate, principal: Principal
) -> RoomTypePublic:
    prop = await resolve_property(session, data.property_id, "body")
    check_property(principal, prop)
    taken = f"Room type {data.code} exists at property {prop.id}."
    existing = await session.exec(
        select(RoomType).where(RoomType.property_id == prop.id, RoomType.code == data.code)
    )
    if existing.first():
        raise ProblemError(409, "room_type_exists", taken)
    room_type = RoomType.model_validate(data, update={"property_id": prop.id})
    await insert_unique(session, room_type, "room_type_exists", taken)
    assert room_type.id is not None
    await ari_changes.mark_all(session, room_type.id)  # a new type to sell (no rooms yet)
    return room_type_public(room_type, prop.currency)


async def list_room_types(
    session: AsyncSession, paging: Paging, property_id: int | None
) -> Page[RoomTypePublic]:
    query = select(RoomType, Property.currency).join(
        Property, col(Property.id) == RoomType.property_id
    )
    if property_id is not None:
        query = query.where(RoomType.property_id == property_id)
    page = await keyset_page(session, query, paging, col(RoomType.id))
    return page.map(lambda row: room_type_public(*row))


# -- rooms -----------------------------------------------------------------------------------------


async def create_room(session: AsyncSession, data: RoomCreate, principal: Principal) -> RoomPublic:
    prop = await resolve_property(session, data.property_id, "body")
    check_property(principal, prop)
    room_type = await room_type_by_code(session, prop, data.room_type_code, "body.room_type_code")
    low, high = room_type.min_floor, room_type.max_floor
    if (low is not None and data.floor < low) or (high is not None and data.floor > high):
        raise invalid_field(
            "floor_outside_room_type",
            "body.floor",
            f"Rooms of type {room_type.code} are on floors {low} to {high}.",
        )
    taken = f"Room {data.number} exists at property {prop.id}."
    same_number = select(Room).where(Room.property_id == prop.id, Room.number == data.number)
    if (await session.exec(same_number)).first():
        raise ProblemError(409, "room_number_taken", taken)
    room = Room.model_validate(data, update={"room_type_id": room_type.id, "property_id": prop.id})
    await insert_unique(session, room, "room_number_taken", taken)
    await ari_changes.mark_all(session, room.room_type_id)
    return room_public(room, room_type.code)


async def list_rooms(
    session: AsyncSession,
    paging: Paging,
    principal: Principal,
    *,
    property_id: int | None,
    room_type_code: str | None,
    status: HousekeepingStatus | None,
) -> Page[RoomPublic]:
    """The rooms of the caller's properties."""
    query = (
        select(Room, RoomType.code)
        .join(RoomType, col(RoomType.id) == Room.room_type_id)
        .where(in_properties(principal))
    )
    if property_id is not None:
        query = query.where(RoomType.property_id == property_id)
    if room_type_code is not None:
        query = query.where(RoomType.code == room_type_code.strip().upper())
    if status is not None:
        query = query.where(Room.housekeeping_status == status)
    page = await keyset_page(session, query, paging, col(Room.id))
    return page.map(lambda row: room_public(*row))


def room_public(room: Room, room_type_code: str) -> RoomPublic:
    return RoomPublic.model_validate({**room.model_dump(), "room_type_code": room_type_code})


async def room_of(
    session: AsyncSession, principal: Principal, room_id: int, *, lock: bool = False
) -> tuple[Room, str]:
    """A room of the caller's properties and its type's code; 404 `room_not_found` for any
    other (another hotel's room is not shown to exist)."""
    query = (
        select(Room, RoomType.code)
        .join(RoomType, col(RoomType.id) == Room.room_type_id)
        .where(Room.id == room_id, in_properties(principal))
    )
    if lock:
        query = query.with_for_update(of=Room)
    found = (await session.exec(query)).first()
    if found is None:
        raise ProblemError(404, "room_not_found", f"No room with id {room_id}.")
    return found[0], found[1]


async def set_housekeeping(
    session: AsyncSession, principal: Principal, room_id: int, status: HousekeepingStatus
) -> RoomPublic:
    """Set a room's housekeeping status; the same status again changes nothing. Never
    commits. `out_of_order` takes the room out of inventory (every night) until it gets
    another status."""
    room, code = await room_of(session, principal, room_id, lock=True)
    if room.housekeeping_status != status:
        out = HousekeepingStatus.OUT_OF_ORDER
        if out in (room.housekeeping_status, status):  # out of inventory, or back in it
            await ari_changes.mark_all(session, room.room_type_id)
        room.housekeeping_status = status
        session.add(room)
        await session.flush()
    return room_public(room, code)

"""Inventory: rooms free per room type and night, and holding them for confirmed bookings.

Free = rooms of the type not out of order - rooms held that night. Only holds are stored; the
room count is always read from `rooms`, so the two can never drift apart.

Never overselling rests on one conditional UPDATE: a night's `held` goes up only while it is
below the live room count, and the booking is confirmed only if every night went up. On
PostgreSQL concurrent holds queue on the night rows' locks and re-check the condition against
the committed count; on SQLite every transaction is BEGIN IMMEDIATE, so they run one at a time.
A CHECK keeps `held` from going below zero on release.
"""

from datetime import date

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import (
    HousekeepingStatus,
    InventoryNight,
    Property,
    Room,
    RoomType,
    RoomTypeAvailability,
)
from reservation_service.stays import nights


async def availability(
    session: AsyncSession, prop: Property, check_in: date, check_out: date, guests: int | None
) -> list[RoomTypeAvailability]:
    """Per room type: rooms free on every night of the stay, and the price of the stay."""
    in_service = (
        select(Room.room_type_id, func.count().label("rooms"))
        .where(Room.housekeeping_status != HousekeepingStatus.OUT_OF_ORDER)
        .group_by(col(Room.room_type_id))
        .subquery()
    )
    busiest = (
        select(InventoryNight.room_type_id, func.max(InventoryNight.held).label("held"))
        .where(col(InventoryNight.night) >= check_in, col(InventoryNight.night) < check_out)
        .group_by(col(InventoryNight.room_type_id))
        .subquery()
    )
    query = (
        select(
            RoomType,
            func.coalesce(in_service.c.rooms, 0),
            func.coalesce(busiest.c.held, 0),
        )
        .outerjoin(in_service, in_service.c.room_type_id == RoomType.id)
        .outerjoin(busiest, busiest.c.room_type_id == RoomType.id)
        .where(RoomType.property_id == prop.id)
        .order_by(col(RoomType.base_amount), col(RoomType.id))
    )
    if guests is not None:
        query = query.where(col(RoomType.capacity) >= guests)
    count = (check_out - check_in).days
    return [
        RoomTypeAvailability(
            room_type_code=room_type.code,
            name=room_type.name,
            capacity=room_type.capacity,
            bed_type=room_type.bed_type,
            # A room taken out of order under existing holds can leave fewer rooms than holds.
            available=max(0, rooms - held),
            nightly_amount=room_type.base_amount,
            total_amount=room_type.base_amount * count,
            currency=prop.currency,
        )
        for room_type, rooms, held in (await session.exec(query)).all()
    ]


async def hold(session: AsyncSession, room_type_id: int, check_in: date, check_out: date) -> bool:
    """Hold one room on every night of the stay; False (nothing changed) if a night is full.

    It runs in a savepoint: nights held before a full one are released at once, and the
    caller's transaction goes on.
    """
    try:
        async with session.begin_nested():
            await _hold_every_night(session, room_type_id, check_in, check_out)
    except _NightFull:
        return False
    return True


class _NightFull(Exception):
    """A night of the stay has no free room: rolls back the savepoint of `hold`."""


async def _hold_every_night(
    session: AsyncSession, room_type_id: int, check_in: date, check_out: date
) -> None:
    stay = nights(check_in, check_out)
    connection = await session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # Nights nobody has held yet get a row first; ascending order keeps lock order the same
    # in every transaction.
    await session.exec(
        insert(InventoryNight)
        .values([{"room_type_id": room_type_id, "night": night, "held": 0} for night in stay])
        .on_conflict_do_nothing(index_elements=["room_type_id", "night"])
    )
    rooms = (
        select(func.count())
        .select_from(Room)
        .where(
            Room.room_type_id == room_type_id,
            Room.housekeeping_status != HousekeepingStatus.OUT_OF_ORDER,
        )
        .scalar_subquery()
    )
    result = await session.exec(
        update(InventoryNight)
        .where(
            col(InventoryNight.room_type_id) == room_type_id,
            col(InventoryNight.night) >= check_in,
            col(InventoryNight.night) < check_out,
            col(InventoryNight.held) < rooms,
        )
        .values(held=col(InventoryNight.held) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(stay):
        raise _NightFull


async def release(
    session: AsyncSession, room_type_id: int, check_in: date, check_out: date
) -> None:
    """Give back the room held on every night of the stay."""
    await session.exec(
        update(InventoryNight)
        .where(
            col(InventoryNight.room_type_id) == room_type_id,
            col(InventoryNight.night) >= check_in,
            col(InventoryNight.night) < check_out,
            col(InventoryNight.held) > 0,
        )
        .values(held=col(InventoryNight.held) - 1)
        .execution_options(synchronize_session=False)
    )

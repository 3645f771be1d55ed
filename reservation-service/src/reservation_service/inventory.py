"""Inventory: rooms free per room type and night, and holding them for confirmed bookings.

Free = rooms of the type not out of order - rooms held that night. Only holds are stored; the
room count is always read from `rooms`, so the two can never drift apart.

Never overselling rests on one conditional upsert: a night's `held` goes up only while it is
below the live room count, and the booking is confirmed only if every night went up. On
PostgreSQL concurrent holds queue on the night rows' locks and re-check the condition against
the committed count; on SQLite every transaction is BEGIN IMMEDIATE, so they run one at a time.
A CHECK keeps `held` from going below zero on release.
"""

import json
from datetime import date

from sqlalchemy import bindparam, func, text, update
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


# Holding a room on every night of a stay is one statement (the hottest write of a booking):
# nights nobody has held yet are inserted held by one, the others go up by one while below the
# live room count; RETURNING names the nights that went up. Written as SQL once per dialect, not
# rebuilt per call. Ascending nights keep the lock order the same in every transaction. The
# counts read `rooms` in the statement's snapshot, as the conditional UPDATE it replaces did.
_ROOMS_IN_SERVICE = (
    "SELECT count(*) FROM rooms WHERE room_type_id = :room_type_id"
    " AND housekeeping_status != :out_of_order"
)
_UPSERT_TAIL = f"""
ON CONFLICT (room_type_id, night) DO UPDATE SET held = inventory_nights.held + 1
WHERE inventory_nights.held < ({_ROOMS_IN_SERVICE})
RETURNING night"""
_HOLD = {
    "postgresql": text(
        "INSERT INTO inventory_nights (room_type_id, night, held)"
        " SELECT :room_type_id, night, 1 FROM unnest(CAST(:nights AS DATE[])) AS night"
        f" WHERE ({_ROOMS_IN_SERVICE}) > 0 ORDER BY night" + _UPSERT_TAIL
    ),
    # json_each: SQLite has no arrays; its dates are ISO text, as SQLAlchemy stores them.
    "sqlite": text(
        "INSERT INTO inventory_nights (room_type_id, night, held)"
        " SELECT :room_type_id, value, 1 FROM json_each(:nights)"
        f" WHERE ({_ROOMS_IN_SERVICE}) > 0 ORDER BY value" + _UPSERT_TAIL
    ),
}
_UNDO = text(
    "UPDATE inventory_nights SET held = held - 1"
    " WHERE room_type_id = :room_type_id AND night IN :nights"
).bindparams(bindparam("nights", expanding=True))


async def hold(session: AsyncSession, room_type_id: int, check_in: date, check_out: date) -> bool:
    """Hold one room on every night of the stay; False (nothing changed) if a night is full.

    One round trip when every night has a room. When one is full, the nights that went up are
    put back (their row locks are ours until the transaction ends, so exactly those), and the
    caller's transaction goes on.
    """
    stay = nights(check_in, check_out)
    connection = await session.connection()  # Core on the session's connection: no ORM layers
    dialect = connection.dialect.name
    params = {
        "room_type_id": room_type_id,
        "out_of_order": HousekeepingStatus.OUT_OF_ORDER.value,
        "nights": stay if dialect == "postgresql" else json.dumps([n.isoformat() for n in stay]),
    }
    held = list((await connection.execute(_HOLD[dialect], params)).scalars())
    if len(held) == len(stay):
        return True
    if held:
        await connection.execute(_UNDO, {"room_type_id": room_type_id, "nights": held})
    return False


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

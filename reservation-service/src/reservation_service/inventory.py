"""Inventory: rooms free per room type and night, and holding them for confirmed bookings.

Free = rooms of the type in service that night (not in the out_of_order status, not in an
out-of-order period covering the night) - rooms held that night. Only holds are stored; the
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

from reservation_service import ari_changes
from reservation_service.models import (
    HousekeepingStatus,
    InventoryNight,
    OutOfOrderPeriod,
    Room,
    RoomType,
)
from reservation_service.stays import nights


async def free_per_night(
    session: AsyncSession, property_id: int, check_in: date, check_out: date
) -> dict[int, list[int]]:
    """Room type id -> rooms free on each night from check_in to before check_out (in night
    order), for every room type of the property: its rooms in service that night (not in the
    out_of_order status, not in an out-of-order period covering the night) minus the rooms
    held that night, never below zero. Three aggregate reads, whatever the number of
    bookings."""
    balance = await rooms_balance(session, property_id, check_in, check_out)
    return {room_type_id: [max(0, n) for n in counts] for room_type_id, counts in balance.items()}


async def rooms_balance(
    session: AsyncSession, property_id: int, check_in: date, check_out: date
) -> dict[int, list[int]]:
    """As `free_per_night`, but below zero on a night with more rooms held than in service
    (a room taken out of order under existing bookings): those bookings need moving."""
    stay = nights(check_in, check_out)
    index = {night: i for i, night in enumerate(stay)}
    in_service = (
        await session.exec(
            select(RoomType.id, func.count(col(Room.id)))
            .outerjoin(
                Room,
                (col(Room.room_type_id) == RoomType.id)
                & (col(Room.housekeeping_status) != HousekeepingStatus.OUT_OF_ORDER),
            )
            .where(RoomType.property_id == property_id)
            .group_by(col(RoomType.id))
        )
    ).all()
    free = {room_type_id: [rooms] * len(stay) for room_type_id, rooms in in_service if room_type_id}
    # Out-of-order periods of rooms otherwise in service, per room (a night counts once even
    # if two periods of one room cover it).
    out: dict[tuple[int, int], set[date]] = {}
    periods = await session.exec(
        select(
            col(Room.room_type_id),
            col(Room.id),
            col(OutOfOrderPeriod.from_date),
            col(OutOfOrderPeriod.to_date),
        )
        .join(Room, col(Room.id) == OutOfOrderPeriod.room_id)
        .where(
            OutOfOrderPeriod.property_id == property_id,
            col(OutOfOrderPeriod.from_date) < check_out,
            col(OutOfOrderPeriod.to_date) > check_in,
            col(Room.housekeeping_status) != HousekeepingStatus.OUT_OF_ORDER,
        )
    )
    for room_type_id, room_id, first, end in periods.all():
        out.setdefault((room_type_id, room_id or 0), set()).update(
            nights(max(first, check_in), min(end, check_out))
        )
    for (room_type_id, _), dates in out.items():
        for night in dates:
            free[room_type_id][index[night]] -= 1
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
        free[room_type_id][index[night]] -= count
    return free


# Holding a room on every night of a stay is one statement (the hottest write of a booking):
# nights nobody has held yet are inserted held by one, the others go up by one while below the
# room count of THAT night; RETURNING names the nights that went up. Written as SQL once per
# dialect, not rebuilt per call. Ascending nights keep the lock order the same in every
# transaction. The counts read `rooms` and `room_out_of_order` in the statement's snapshot, as
# the conditional UPDATE it replaces did: a room counts on a night unless its status is
# out_of_order or an out-of-order period covers the night.
def _rooms_in_service(night: str) -> str:
    return (
        "SELECT count(*) FROM rooms WHERE rooms.room_type_id = :room_type_id"
        " AND rooms.housekeeping_status != :out_of_order"
        " AND NOT EXISTS (SELECT 1 FROM room_out_of_order AS o WHERE o.room_id = rooms.id"
        f" AND o.from_date <= {night} AND o.to_date > {night})"
    )


_UPSERT_TAIL = f"""
ON CONFLICT (room_type_id, night) DO UPDATE SET held = inventory_nights.held + 1
WHERE inventory_nights.held < ({_rooms_in_service("inventory_nights.night")})
RETURNING night"""
_HOLD = {
    "postgresql": text(
        "INSERT INTO inventory_nights (room_type_id, night, held)"
        " SELECT :room_type_id, stay.night, 1"
        " FROM unnest(CAST(:nights AS DATE[])) AS stay(night)"
        f" WHERE ({_rooms_in_service('stay.night')}) > 0 ORDER BY stay.night" + _UPSERT_TAIL
    ),
    # json_each: SQLite has no arrays; its dates are ISO text, as SQLAlchemy stores them.
    "sqlite": text(
        "INSERT INTO inventory_nights (room_type_id, night, held)"
        " SELECT :room_type_id, stay.value, 1 FROM json_each(:nights) AS stay"
        f" WHERE ({_rooms_in_service('stay.value')}) > 0 ORDER BY stay.value" + _UPSERT_TAIL
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
        await ari_changes.mark(session, room_type_id, check_in, check_out)
        return True
    if held:
        await connection.execute(_UNDO, {"room_type_id": room_type_id, "nights": held})
    return False


async def release(
    session: AsyncSession, room_type_id: int, check_in: date, check_out: date
) -> None:
    """Give back the room held on every night of the stay."""
    await ari_changes.mark(session, room_type_id, check_in, check_out)
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

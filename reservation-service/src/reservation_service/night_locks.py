"""One lock order for every change that touches more than one night row of inventory.

Confirming holds nights in ascending order (inventory.hold). A cancellation, a no-show or a
modification also releases nights, and a modification may touch two room types: left alone,
two such changes of different bookings could lock the same nights in opposite orders and
deadlock on PostgreSQL. Each of them first takes every night row it will touch in one
statement, ordered by (room type, night), creating the missing rows (held 0) so an insert
cannot jump the queue later. SQLite runs one writing transaction at a time: nothing to do.
"""

from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.stays import nights

_LOCK = text(
    "INSERT INTO inventory_nights (room_type_id, night, held)"
    " SELECT :room_type_id, night, 0 FROM unnest(CAST(:nights AS DATE[])) AS night"
    " ORDER BY night"
    " ON CONFLICT (room_type_id, night) DO UPDATE SET held = inventory_nights.held"
)


async def lock_nights(session: AsyncSession, stays: list[tuple[int, date, date]]) -> None:
    """Lock the night rows of every (room_type_id, check_in, check_out) in `stays`, in the
    global order (room type, night); PostgreSQL only."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return
    wanted: dict[int, set[date]] = {}
    for room_type_id, check_in, check_out in stays:
        wanted.setdefault(room_type_id, set()).update(nights(check_in, check_out))
    for room_type_id in sorted(wanted):
        await connection.execute(
            _LOCK, {"room_type_id": room_type_id, "nights": sorted(wanted[room_type_id])}
        )

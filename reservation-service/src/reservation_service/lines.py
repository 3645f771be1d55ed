"""The rooms of a booking held and released together: one room, or several under one
confirmation number (`reservation_lines`).

Confirming holds a room on every night for every line or for none: a line that finds a night
full puts back the lines held before it (and the caller's transaction is rolled back anyway).
Lines are held in room-type order, and each line's nights in date order, so two confirmations
take the night rows' locks in the same order and never deadlock on PostgreSQL.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import inventory
from reservation_service.bookings import Booking
from reservation_service.models import RoomType


def _room_types(booking: Booking) -> dict[int, RoomType]:
    known = {rt.id: rt for _, rt in booking.lines if rt.id is not None}
    if booking.room_type.id is not None:
        known[booking.room_type.id] = booking.room_type
    return known


async def hold(session: AsyncSession, booking: Booking) -> RoomType | None:
    """Hold every room of the booking on every night; None when all are held, else the room
    type of the first room that could not be (nothing stays held)."""
    r = booking.reservation
    held: list[int] = []
    for room_type_id in sorted(booking.room_type_ids()):
        if not await inventory.hold(session, room_type_id, r.check_in, r.check_out):
            for done in held:
                await inventory.release(session, done, r.check_in, r.check_out)
            return _room_types(booking)[room_type_id]
        held.append(room_type_id)
    return None


async def release(session: AsyncSession, booking: Booking) -> None:
    """Give back every room of the booking on every night."""
    r = booking.reservation
    for room_type_id in sorted(booking.room_type_ids()):
        await inventory.release(session, room_type_id, r.check_in, r.check_out)

"""Staging ARI changes for `availability.changed` (issue 21).

Whatever changes availability, prices or restrictions of a room type on some nights calls
`mark` (or `mark_all`) in its own transaction: one small row in `ari_changes` saying which
nights of which room type may have changed, nothing read. The row commits with the change
or not at all, so a rolled-back booking announces nothing. The publisher (ari_publisher.py)
claims the rows every `ari_coalesce_seconds`, merges them and publishes the CURRENT ARI of
the merged ranges: the rows only say where to look, never what changed, so any number of
changes to one night in one window are one message.

The central places that mark: inventory.hold / inventory.release (every booking,
cancellation, modification, no-show, expiry, early departure), out-of-order periods
created and ended, a room's housekeeping status to or from out_of_order, rooms and room
types added, rate and restriction pushes that changed a night, rate plans created or their
prices (amounts, seasons, discount) changed.
"""

from datetime import date

from sqlalchemy import Date, bindparam, text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# A change of every night (a room added, a plan's weekday price): the publisher clips the
# range to today..the booking horizon, property time.
EVER_FIRST = date(2000, 1, 1)
EVER_END = date(9999, 1, 1)


class AriChange(SQLModel, table=True):
    """Nights [start_date, end_date) of a room type whose ARI may have changed, not yet
    published. Deleted when the publisher claims it. No foreign key: the booking path's
    insert checks and locks nothing (room types are never deleted; an unknown one is
    dropped by the publisher)."""

    __tablename__ = "ari_changes"

    id: int | None = Field(default=None, primary_key=True)
    room_type_id: int
    start_date: date
    end_date: date  # exclusive


class AriSequence(SQLModel, table=True):
    """The last `sequence` given to an `availability.changed` of a room type."""

    __tablename__ = "ari_sequences"

    room_type_id: int = Field(foreign_key="room_types.id", primary_key=True)
    last_sequence: int = 0


# One statement, prepared once: the booking path's only extra cost is this INSERT.
# Typed dates: SQLite stores them as SQLAlchemy's ISO text, as the ORM does.
_MARK = text(
    "INSERT INTO ari_changes (room_type_id, start_date, end_date) VALUES (:r, :s, :e)"
).bindparams(bindparam("s", type_=Date), bindparam("e", type_=Date))


async def mark(session: AsyncSession, room_type_id: int, start: date, end: date) -> None:
    """Stage "nights [start, end) of this room type may have changed" in the caller's
    transaction. An empty range stages nothing."""
    if end <= start:
        return
    connection = await session.connection()  # Core: no ORM unit of work on the hot path
    await connection.execute(_MARK, {"r": room_type_id, "s": start, "e": end})


async def mark_all(session: AsyncSession, room_type_id: int) -> None:
    """Every night of the room type may have changed (clipped when published)."""
    await mark(session, room_type_id, EVER_FIRST, EVER_END)

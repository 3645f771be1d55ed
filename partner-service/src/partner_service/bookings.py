"""Which partner owns which booking, and the events of bookings not known yet (helper: feed).

Every booking's `reservation.created` / `reservation.confirmed` carries `partner_id` (the
gateway partner whose key made it; absent for the hotel's other channels). Each booking seen
gets a row here, partner or not: a later event of a booking with a row and no partner is
dropped at once, not parked.

The bus does not promise order: a booking's cancellation or its pickup may arrive before the
event saying whose booking it is. Such an event is parked and claimed (appended to the
owner's feed, in the booking's version order) when the created/confirmed arrives. A parked row
nobody claims within `feed_parked_hours` (a booking made before partner-service existed) is
purged. Parking and claiming both take the booking's lock (the inbox's aggregate lock), so a
pickup event parked while the booking's creation is being handled is never stranded.

Most bookings are no partner's, and each makes 4-6 events here (created, confirmed, its pickup,
its notices' statuses) that change nothing. `DirectBookings` remembers, in process, bookings
known to have no partner (their row committed with none), and the subscriptions' `wanted`
(Runtime.handle) acknowledges their later events with no database work at all. It only ever
holds "no partner", which does not change: a booking's owner is fixed when it is made
(reservation-service sets `owner` once), so its created and confirmed name the same partner.
A booking not in it (another replica saw it, the process restarted, it was evicted) takes the
full path, which learns it. The one exception, a booking made before `partner_id` existed whose
later event names a partner (`record`), is forgotten here when that event is handled; another
replica may still skip that booking's events until it evicts it, as today's path drops the
events that came before the partner was named.
"""

from datetime import datetime, timedelta
from typing import Any

from hotel_common.events.inbox import lock_aggregate
from hotel_common.time import UtcDateTime, utcnow
from hotel_common.uniques import try_insert
from sqlalchemy import JSON, Column, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

PARTNER_ID_MAX = 32  # as models.PARTNER_ID_MAX (not imported: models imports this module)


class PartnerBooking(SQLModel, table=True):
    """A booking seen by partner-service and the partner it belongs to (None: no partner's)."""

    __tablename__ = "partner_bookings"

    reservation_id: str = Field(primary_key=True, max_length=36)
    partner_id: str | None = Field(default=None, max_length=PARTNER_ID_MAX, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ParkedEvent(SQLModel, table=True):
    """An event of a booking whose owner is not known yet, waiting for it."""

    __tablename__ = "parked_events"

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: str = Field(max_length=36, index=True)
    event_id: str = Field(max_length=36, unique=True)
    event_type: str = Field(max_length=100)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    aggregate_version: int | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    parked_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


class DirectBookings:
    """Ids of bookings known to have no partner, the newest `size` (0: none kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: dict[str, None] = {}  # insertion order: the oldest is evicted first

    def __contains__(self, reservation_id: object) -> bool:
        return reservation_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, reservation_id: str) -> None:
        """Call only once a row saying "no partner" has committed (db.after_commit)."""
        if self.size <= 0 or reservation_id in self._ids:
            return
        self._ids[reservation_id] = None
        if len(self._ids) > self.size:
            del self._ids[next(iter(self._ids))]

    def discard(self, reservation_id: str) -> None:
        self._ids.pop(reservation_id, None)


async def lock_booking(session: AsyncSession, reservation_id: str) -> None:
    """The booking's lock (the key the inbox serializes its events by), to the commit. Events
    of another aggregate about the booking (a transfer job's) take it too."""
    await lock_aggregate(session, f"reservation:{reservation_id}")


async def owner_of(session: AsyncSession, reservation_id: str) -> PartnerBooking | None:
    return await session.get(PartnerBooking, reservation_id)


async def record(
    session: AsyncSession, reservation_id: str, partner_id: str | None
) -> PartnerBooking:
    """The booking's row, created on its first created/confirmed. A row without a partner
    takes one a later event names (a booking created before the field existed)."""
    booking = await session.get(PartnerBooking, reservation_id)
    if booking is None:
        booking = PartnerBooking(reservation_id=reservation_id, partner_id=partner_id)
        if await try_insert(session, booking):
            return booking
        booking = await session.get(PartnerBooking, reservation_id, populate_existing=True)
        assert booking is not None
    if booking.partner_id is None and partner_id is not None:
        booking.partner_id = partner_id
        session.add(booking)
    return booking


def park(
    session: AsyncSession,
    reservation_id: str,
    *,
    event_id: str,
    event_type: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    aggregate_version: int | None,
) -> None:
    session.add(
        ParkedEvent(
            reservation_id=reservation_id,
            event_id=event_id,
            event_type=event_type,
            occurred_at=occurred_at,
            payload=payload,
            aggregate_version=aggregate_version,
        )
    )


async def claim(session: AsyncSession, reservation_id: str) -> list[ParkedEvent]:
    """The booking's parked events, removed, in the order they were parked."""
    rows = list(
        await session.exec(
            select(ParkedEvent)
            .where(ParkedEvent.reservation_id == reservation_id)
            .order_by(col(ParkedEvent.id))
        )
    )
    for row in rows:
        await session.delete(row)
    return rows


async def drop_parked(session: AsyncSession, reservation_ids: list[str]) -> None:
    """Forget the parked events of these bookings (a guest's erasure)."""
    if reservation_ids:
        await session.exec(
            delete(ParkedEvent).where(col(ParkedEvent.reservation_id).in_(reservation_ids))
        )


async def purge_parked(session: AsyncSession, hours: float, now: datetime | None = None) -> int:
    """Remove parked events nobody claimed within `hours`; how many."""
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    result = await session.exec(delete(ParkedEvent).where(col(ParkedEvent.parked_at) < cutoff))
    return int(result.rowcount or 0)

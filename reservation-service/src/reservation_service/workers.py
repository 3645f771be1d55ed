"""The lifecycle's background sweeps: requests that expire, guarantees not met in time, and
no-shows.

Each pass handles due bookings one at a time, each in a transaction of its own: it claims the
next due booking with its row lock (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas sweeping
together take different bookings and never wait on each other; SQLite: one writing transaction
at a time), the due condition re-read under the lock, then changes it through the lifecycle.
A booking changed meanwhile (confirmed, cancelled, checked in) no longer matches and is left
alone, so a pass is idempotent and two replicas never act twice on one booking. A booking
whose change fails is logged and skipped until the next pass.

The passes take `now` so tests drive them with a clock of their own.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotel_common.db import SessionFactory, transaction
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import lifecycle
from reservation_service.access import system
from reservation_service.bookings import Booking, lines_of
from reservation_service.config import Settings
from reservation_service.models import Property, Reservation, ReservationStatus, RoomType

log = logging.getLogger(__name__)

Action = Callable[[AsyncSession, Booking], Awaitable[None]]


async def _sweep(
    sessions: SessionFactory,
    due: ColumnElement[bool],
    order: ColumnElement[object] | object,
    action: Action,
    name: str,
    batch: int,
) -> int:
    """Claim and change due bookings one per transaction, at most `batch`; how many changed."""
    done, tried = 0, set[str]()
    while len(tried) < batch:
        claimed: str | None = None
        try:
            async with transaction(sessions) as session:
                query = (
                    select(Reservation, RoomType, Property)
                    .join(RoomType, col(RoomType.id) == Reservation.room_type_id)
                    .join(Property, col(Property.id) == RoomType.property_id)
                    .where(due)
                    .order_by(order, col(Reservation.id))  # type: ignore[arg-type]
                    .limit(1)
                    .with_for_update(of=Reservation, skip_locked=True)
                )
                if tried:
                    query = query.where(col(Reservation.id).not_in(tried))
                row = (await session.exec(query)).first()
                if row is None:
                    break
                booking = Booking(*row)
                if booking.reservation.room_count > 1:  # every room is released, not line 1's
                    found = await lines_of(session, [booking.reservation.id])
                    booking = Booking(*row, found.get(booking.reservation.id, []))
                claimed = booking.reservation.id
                tried.add(claimed)
                await action(session, booking)
        except Exception:
            if claimed is None:
                raise
            log.exception(
                "lifecycle sweep failed on a booking; will try again",
                extra={"sweep": name, "reservation_id": claimed},
            )
            continue
        done += 1
    if done:
        log.info("lifecycle sweep", extra={"sweep": name, "changed": done})
    return done


async def expire_requests(
    sessions: SessionFactory, now: datetime | None = None, batch: int = 200
) -> int:
    """`requested` bookings past `expires_at` become `expired` (reservation.expired)."""
    now = now or utcnow()
    actor = system("expiry")

    async def act(session: AsyncSession, booking: Booking) -> None:
        lifecycle.expire(session, booking, actor)

    due = and_(
        col(Reservation.status) == ReservationStatus.REQUESTED,
        col(Reservation.expires_at) <= now,
    )
    return await _sweep(sessions, due, col(Reservation.expires_at), act, "expiry", batch)


async def cancel_unguaranteed(
    sessions: SessionFactory, now: datetime | None = None, batch: int = 200
) -> int:
    """Confirmed bookings whose guarantee was not met by `guarantee_due_at` are cancelled with
    reason_code `guarantee_expired` (reservation.cancelled tells the guest)."""
    now = now or utcnow()
    actor = system("guarantee")

    async def act(session: AsyncSession, booking: Booking) -> None:
        due_at = booking.reservation.guarantee_due_at
        reason = f"The guarantee was not received by {due_at.isoformat() if due_at else 'then'}."
        await lifecycle.cancel_booking(
            session, booking, reason, actor, reason_code="guarantee_expired", now=now
        )

    due = and_(
        col(Reservation.status) == ReservationStatus.CONFIRMED,
        col(Reservation.guaranteed_at).is_(None),
        col(Reservation.guarantee_due_at) <= now,
    )
    return await _sweep(sessions, due, col(Reservation.guarantee_due_at), act, "guarantee", batch)


def last_no_show_day(now: datetime, timezone: str, cutoff_hour: int) -> date:
    """The latest check-in day whose no-show cut-off (`cutoff_hour` of the day after, property
    time) has passed at `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.date() - timedelta(days=1)  # the cut-off is on the day after check-in
    if local.time() < time(cutoff_hour):
        day -= timedelta(days=1)
    return day


async def mark_no_shows(
    sessions: SessionFactory, settings: Settings, now: datetime | None = None, batch: int = 200
) -> int:
    """Confirmed bookings not checked in by the cut-off (`no_show_cutoff_hour` of the day after
    check-in, property time) become `no_show`, charged by their policy, nights from today on
    released (reservation.no_show)."""
    now = now or utcnow()
    actor = system("no_show")
    async with sessions() as session:
        zones = list((await session.exec(select(Property.timezone).distinct())).all())
    # Per time zone, the check-in days whose cut-off has passed: exact in SQL, zones are few.
    past_cutoff = or_(
        false(),
        *(
            and_(
                col(Property.timezone) == zone,
                col(Reservation.check_in)
                <= last_no_show_day(now, zone, settings.no_show_cutoff_hour),
            )
            for zone in zones
        ),
    )

    async def act(session: AsyncSession, booking: Booking) -> None:
        today = now.astimezone(ZoneInfo(booking.property.timezone)).date()
        await lifecycle.mark_no_show(session, booking, actor, today)

    due = and_(col(Reservation.status) == ReservationStatus.CONFIRMED, past_cutoff)
    return await _sweep(sessions, due, col(Reservation.check_in), act, "no_show", batch)


async def sweep_once(
    sessions: SessionFactory, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Every sweep once: guarantees first (a booking both unguaranteed and a no-show is
    cancelled, as its terms said first), then no-shows, then expiry."""
    return {
        "guarantee": await cancel_unguaranteed(sessions, now),
        "no_show": await mark_no_shows(sessions, settings, now),
        "expiry": await expire_requests(sessions, now),
    }


async def sweep_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: sweep every `lifecycle_sweep_seconds`, for as long as it runs."""
    while True:
        try:
            await sweep_once(runtime.sessions, runtime.settings)
        except Exception:
            log.exception("lifecycle sweep failed; will try again")
        await asyncio.sleep(runtime.settings.lifecycle_sweep_seconds)

"""Bookings no partner owns: once partner-service has seen one (its created or confirmed naming
no partner), the booking's later events are acknowledged with nothing written (no inbox row,
no parked event); a partner's booking's events still reach its feed; an event of a booking not
known yet still waits for it (bookings.DirectBookings, runtime.handle's `wanted`)."""

import asyncio

from hotel_common.events.inbox import ProcessedEvent
from hotel_common.testing import eventually
from partner_service.bookings import DirectBookings, ParkedEvent, PartnerBooking
from partner_service.handlers import DIRECT
from sqlmodel import col, func, select

from .conftest import PartnerService, new_partner_id, reservation_created
from .test_feed import booking_of, later_events


async def _processed(svc: PartnerService, event_ids: list[str]) -> list[str]:
    async with svc.runtime.sessions() as session:
        rows = await session.exec(
            select(ProcessedEvent.event_id).where(col(ProcessedEvent.event_id).in_(event_ids))
        )
        return list(rows)


async def _count(svc: PartnerService, table: type[ParkedEvent | PartnerBooking]) -> int:
    async with svc.runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_a_direct_bookings_later_events_write_nothing_and_a_partners_still_arrive(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    direct: DirectBookings = svc.runtime.extras[DIRECT]
    hotel = booking_of(None)
    created = svc.deliver(reservation_created(hotel))
    await eventually(lambda: _processed(svc, [created.id]))
    await eventually(lambda: hotel.reservation_id in direct)  # learnt once it committed

    later = [svc.deliver(event).id for event in later_events(hotel)]
    # A partner's booking after them: once its events are in its feed and the queue is empty,
    # the bus has taken the direct booking's too (skipping one is no I/O: done when taken).
    a = new_partner_id()
    theirs = booking_of(a)
    svc.deliver(reservation_created(theirs))
    ids = [svc.deliver(event).id for event in later_events(theirs)]
    got = await svc.feed_reaches(a, 5)
    assert [e["id"] for e in got][1:] == ids
    await eventually(lambda: all(q.messages.empty() for q in svc.broker.queues.values()))
    await asyncio.sleep(0.05)

    assert await _processed(svc, later) == []  # acknowledged, nothing recorded
    assert await _count(svc, ParkedEvent) == 0
    assert await _count(svc, PartnerBooking) == 2


async def test_a_booking_not_known_yet_still_parks_and_a_miss_takes_the_full_path(
    partner_service: PartnerService,
) -> None:
    svc = partner_service
    direct: DirectBookings = svc.runtime.extras[DIRECT]
    hotel = booking_of(None)
    pickup, *_ = later_events(hotel)[1:]
    early = svc.deliver(pickup)  # before its created: parked
    await eventually(lambda: _count(svc, ParkedEvent), lambda n: n == 1)
    assert hotel.reservation_id not in direct
    created = svc.deliver(reservation_created(hotel))
    await eventually(lambda: hotel.reservation_id in direct)
    assert await _count(svc, ParkedEvent) == 0  # claimed (dropped: no partner's)
    assert set(await _processed(svc, [early.id, created.id])) == {early.id, created.id}

    # Forgotten (another replica, a restart): the next event takes the full path and
    # teaches it again.
    direct.discard(hotel.reservation_id)
    confirmed = svc.deliver(hotel)
    await eventually(lambda: _processed(svc, [confirmed.id]))
    await eventually(lambda: hotel.reservation_id in direct)
    assert await _count(svc, ParkedEvent) == 0

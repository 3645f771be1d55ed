"""The events partners may see, turned into feed entries (helper: feed).

- A booking's events (its lifecycle, its pickups, its notices) go to the feed of the partner
  whose key made it, and no other; a booking of no partner's reaches no feed. Which partner:
  bookings.py (an event arriving before the booking's created/confirmed waits there).
- `availability.changed` goes to every partner mapped at the property, in its codes
  (mappings.translate); partners mapped to nothing of that room type get nothing.
- `guest.erased` blanks the guest's personal data in the entries of their bookings.

An entry's payload is the event's payload: what the owning partner may already read of its
own booking (`GET /reservations/{id}`), nothing of anyone else's.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hotel_common import context, db
from hotel_common.contracts.guests import GuestErased
from hotel_common.contracts.notifications import NoticeStatusChanged
from hotel_common.contracts.partners import AvailabilityChanged, PartnerMappingChanged
from hotel_common.contracts.reservations import (
    ReservationCancelled,
    ReservationCheckedIn,
    ReservationCheckedOut,
    ReservationConfirmed,
    ReservationCreated,
    ReservationExpired,
    ReservationModified,
    ReservationNoShow,
)
from hotel_common.contracts.transfers import (
    TransferAssigned,
    TransferCancelled,
    TransferReassigned,
    TransferRescheduled,
    TransferStatusChanged,
)
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from partner_service import bookings, erasure, feed, mappings
from partner_service.config import Settings
from partner_service.models import FeedEntry

E = TypeVar("E", bound=IntegrationEvent)

WAKE = "feed_wake"  # runtime.extras key: the webhook sender's wake-up, called on commit
DIRECT = "direct_bookings"  # runtime.extras key: bookings.DirectBookings

# Events of a booking, by the name of their subscription ("partner.<name>").
OWNING_EVENTS: dict[str, type[ReservationCreated | ReservationConfirmed]] = {
    "reservation_created": ReservationCreated,
    "reservation_confirmed": ReservationConfirmed,
}
BOOKING_EVENTS: dict[str, type[IntegrationEvent]] = {
    "reservation_modified": ReservationModified,
    "reservation_cancelled": ReservationCancelled,
    "reservation_checked_in": ReservationCheckedIn,
    "reservation_checked_out": ReservationCheckedOut,
    "reservation_no_show": ReservationNoShow,
    "reservation_expired": ReservationExpired,
    "transfer_assigned": TransferAssigned,
    "transfer_cancelled": TransferCancelled,
    "transfer_status_changed": TransferStatusChanged,
    "transfer_rescheduled": TransferRescheduled,
    "transfer_reassigned": TransferReassigned,
    "notice_status_changed": NoticeStatusChanged,
}


# Every type a feed entry can have: what a subscription may ask for (anything else would never
# fire, silently: refused when subscribing).
_FEED_CONTRACTS: list[type[IntegrationEvent]] = [
    *OWNING_EVENTS.values(),
    *BOOKING_EVENTS.values(),
    AvailabilityChanged,
]
FEED_EVENT_TYPES = frozenset(contract.event_type for contract in _FEED_CONTRACTS)


def subscribe(runtime: Runtime[Settings]) -> None:
    """Subscribe the feed's handlers."""

    def wake() -> Callable[[], None] | None:
        hook: Callable[[], None] | None = runtime.extras.get(WAKE)
        return hook

    direct: bookings.DirectBookings = runtime.extras.setdefault(
        DIRECT, bookings.DirectBookings(runtime.settings.feed_direct_bookings_kept)
    )

    def owning_wanted(event: ReservationCreated | ReservationConfirmed) -> bool:
        # Known as no partner's, and this event names none either: its handler would change
        # nothing (the row is there; nothing is parked for a booking with a row).
        return not (event.partner_id is None and event.reservation_id in direct)

    def booking_wanted(event: IntegrationEvent) -> bool:
        rid: str | None = getattr(event, "reservation_id", None)
        return rid is not None and rid not in direct  # None: an ad-hoc ride, no partner's

    for name, owning in OWNING_EVENTS.items():
        runtime.handle(owning, _owning(wake, direct), name=f"partner.{name}", wanted=owning_wanted)
    for name, contract in BOOKING_EVENTS.items():
        runtime.handle(
            contract, _of_booking(wake, direct), name=f"partner.{name}", wanted=booking_wanted
        )
    runtime.handle(AvailabilityChanged, _availability(wake), name="partner.availability_changed")
    runtime.handle(PartnerMappingChanged, _mapping_changed, name="partner.mapping_changed")
    runtime.handle(GuestErased, _guest_erased, name="partner.guest_erased")


Wake = Callable[[], Callable[[], None] | None]
Handler = Callable[[AsyncSession, E], Awaitable[None]]


def _entry_fields(event: IntegrationEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": context.event_occurred_at.get() or utcnow(),
        "payload": event.model_dump(mode="json"),
        "aggregate_version": event.aggregate_version,
    }


def _learn_direct(session: AsyncSession, direct: bookings.DirectBookings, rid: str) -> None:
    """Remember the booking as no partner's once its row (read or written here) commits."""
    if rid not in direct:
        db.after_commit(session, lambda: direct.add(rid))


def _owning(
    wake: Wake, direct: bookings.DirectBookings
) -> Handler[ReservationCreated | ReservationConfirmed]:
    async def handle(
        session: AsyncSession, event: ReservationCreated | ReservationConfirmed
    ) -> None:
        """Learn whose booking it is, then append this event and those that waited for it,
        in the booking's version order."""
        rid = event.reservation_id
        booking = await bookings.record(session, rid, event.partner_id)
        waiting = await bookings.claim(session, rid)
        if booking.partner_id is None:
            _learn_direct(session, direct, rid)
            return
        direct.discard(rid)  # a booking made before the field existed, now named (bookings.py)
        fields = [_entry_fields(event)] + [
            {
                "event_id": row.event_id,
                "event_type": row.event_type,
                "occurred_at": row.occurred_at,
                "payload": row.payload,
                "aggregate_version": row.aggregate_version,
            }
            for row in waiting
        ]
        # An event of another aggregate (a transfer job's version) or of none sorts after.
        fields.sort(
            key=lambda f: (
                (f["aggregate_version"] is None, f["aggregate_version"] or 0)
                if f["event_type"] in _VERSIONED_BY_BOOKING
                else (True, 0)
            )
        )
        for each in fields:
            await feed.append(
                session, booking.partner_id, reservation_id=rid, on_commit=wake(), **each
            )

    return handle


# Event types whose aggregate_version is the booking's (the others carry a transfer job's).
_VERSIONED_BY_BOOKING = frozenset(
    contract.event_type
    for contract in [*OWNING_EVENTS.values(), *BOOKING_EVENTS.values()]
    if contract.aggregate is not None and contract.aggregate[0] == "reservation"
)


def _of_booking(wake: Wake, direct: bookings.DirectBookings) -> Handler[IntegrationEvent]:
    async def handle(session: AsyncSession, event: IntegrationEvent) -> None:
        rid: str | None = getattr(event, "reservation_id", None)
        if rid is None:  # an ad-hoc ride: no booking, no partner
            return
        await bookings.lock_booking(session, rid)  # a transfer job's event: see bookings.py
        booking = await bookings.owner_of(session, rid)
        if booking is None:
            bookings.park(session, rid, **_entry_fields(event))
            return
        if booking.partner_id is None:
            _learn_direct(session, direct, rid)
        else:
            await feed.append(
                session,
                booking.partner_id,
                reservation_id=rid,
                on_commit=wake(),
                **_entry_fields(event),
            )

    return handle


def _availability(wake: Wake) -> Handler[AvailabilityChanged]:
    async def handle(session: AsyncSession, event: AvailabilityChanged) -> None:
        fields = _entry_fields(event)
        payload = fields.pop("payload")
        for mapping in await mappings.mapped_at(session, event.property_id):
            translated = mappings.translate(mapping, payload)
            if translated is not None:
                await feed.append(
                    session, mapping.partner_id, payload=translated, on_commit=wake(), **fields
                )

    return handle


async def _mapping_changed(session: AsyncSession, event: PartnerMappingChanged) -> None:
    await mappings.apply(session, event)


async def _guest_erased(session: AsyncSession, event: GuestErased) -> None:
    """Blank the guest in every entry of their bookings; forget their parked events; keep the
    bookings' ids so a late event of theirs enters blanked (erasure.py)."""
    ids = sorted(set(event.reservation_ids))  # one lock order
    if not ids:
        return
    for rid in ids:
        # The booking's lock, as its events' handlers take it: an entry being appended now
        # commits before the entries are read below, or sees the erased mark after.
        await bookings.lock_booking(session, rid)
        await erasure.remember(session, rid)
    await bookings.drop_parked(session, ids)
    rows = await session.exec(select(FeedEntry).where(col(FeedEntry.reservation_id).in_(ids)))
    for entry in list(rows):
        blanked = erasure.blank(entry.payload, event)
        if blanked != entry.payload:
            entry.payload = blanked  # a new object: the JSON column sees the change
            session.add(entry)

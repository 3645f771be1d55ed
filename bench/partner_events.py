"""partner-service's CPU per booking's events, in process (issue 21's follow-up).

A partner-service app on SQLite (or --database-url) with its in-memory bus; its subscriptions'
handlers are called directly with envelopes (no bus queueing), each booking's events in the
order a booking makes them: created, confirmed, transfer.assigned, notice.status_changed
(sent, delivered), availability.changed of an unmapped property. `time.process_time` around
each call, per event type, for bookings of no partner ("direct") and of a partner. The
webhook sender is not running (no subscription): appends only.

    .venv/bin/python bench/partner_events.py [--bookings 300] [--database-url URL]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from typing import Any

from hotel_common.contracts.notifications import NoticeStatusChanged
from hotel_common.contracts.partners import AvailabilityChanged
from hotel_common.contracts.reservations import ReservationCreated
from hotel_common.events import memory
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.testing import reservation_confirmed, running, transfer_assigned
from hotel_common.time import utcnow
from partner_service.config import Settings
from partner_service.main import create_app

HANDLERS: dict[str, list[Any]] = defaultdict(list)


def _record_subscriptions() -> None:
    original = memory.InMemoryBus.subscribe

    def subscribe(self: memory.InMemoryBus, event_type: str, handler: Any) -> None:
        HANDLERS[event_type].append(handler)
        original(self, event_type, handler)

    memory.InMemoryBus.subscribe = subscribe  # type: ignore[method-assign]


def booking_events(partner_id: str | None) -> list[IntegrationEvent]:
    from datetime import date, timedelta

    booking = reservation_confirmed(partner_id=partner_id, aggregate_version=2)
    created = ReservationCreated(
        **booking.model_dump(
            include={
                "reservation_id", "confirmation_number", "property_name", "room_type_code",
                "check_in", "check_out", "guests", "total_amount", "currency", "guest",
            }
        ),
        channel="ota",
        partner_id=partner_id,
        aggregate_version=1,
    )  # fmt: skip
    notices = [
        NoticeStatusChanged(
            notice_id=f"n-{booking.reservation_id[:8]}",
            reservation_id=booking.reservation_id,
            kind="reservation_confirmed",
            channel="email",
            status=status,
            at=utcnow(),
            aggregate_version=None,
        )
        for status in ("sent", "delivered")
    ]
    night = date(2030, 6, 1)
    ari = AvailabilityChanged(
        property_id=999,
        room_type_code="DLX",
        start=night,
        end=night + timedelta(days=2),
        currency="CNY",
        sequence=7,
        free=[3, 2],
        rate_plans=[],
        computed_at=utcnow(),
    )
    pickup = transfer_assigned(
        reservation_id=booking.reservation_id,
        confirmation_number=booking.confirmation_number,
        guest=booking.guest,
        aggregate_version=2,
    )
    return [created, booking, pickup, *notices, ari]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    _record_subscriptions()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/{uuid.uuid4().hex[:8]}.db"
        app = create_app(Settings(database_url=url, log_json=False, environment="development"))
        async with running(app):
            for kind, partner in (("direct", None), ("partner", uuid.uuid4().hex)):
                cpu: dict[str, list[float]] = defaultdict(list)
                total = 0.0
                for _ in range(20):  # warm-up
                    for event in booking_events(partner):
                        for handler in HANDLERS[event.event_type]:
                            await handler(Envelope.wrap(event, "bench"))
                for _ in range(args.bookings):
                    for event in booking_events(partner):
                        envelope = Envelope.wrap(event, "bench")
                        for handler in HANDLERS[event.event_type]:
                            start = time.process_time()
                            await handler(envelope)
                            spent = time.process_time() - start
                            cpu[event.event_type].append(spent)
                            total += spent
                print(f"{kind}: {total / args.bookings * 1000:.2f} ms CPU per booking")
                for event_type, values in cpu.items():
                    print(
                        f"  {event_type:28s} mean {statistics.mean(values) * 1000:.3f} ms"
                        f"  ({len(values) // args.bookings}/booking)"
                    )


if __name__ == "__main__":
    asyncio.run(main())

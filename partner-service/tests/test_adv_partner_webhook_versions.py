"""Adversarial (issue 21): a booking confirmed and cancelled at once, the two events crossing on
the bus. The feed keeps their order of arrival (cancelled, then confirmed) and tells which is
newer by `aggregate_version`; a webhook receiver gets the same entries in the same order and
must be able to tell it too: the delivery is "the entry as the feed shows it"."""

import uuid
from pathlib import Path

from hotel_common.testing import eventually
from hotel_common.time import utcnow
from partner_service import feed
from partner_service.delivery import WAKE

from .webhook_support import Platform, platform, receiving

BOOKING = "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d"


async def arrived(p: Platform, event_type: str, version: int) -> str:
    event_id = str(uuid.uuid4())
    async with p.runtime.sessions() as session, session.begin():
        await feed.append(
            session,
            p.partner_id,
            event_id=event_id,
            event_type=event_type,
            occurred_at=utcnow(),
            payload={"reservation_id": BOOKING},
            reservation_id=BOOKING,
            aggregate_version=version,
            on_commit=p.runtime.extras.get(WAKE),
        )
    return event_id


async def test_a_delivery_carries_the_entrys_aggregate_version(tmp_path: Path) -> None:
    async with platform(tmp_path) as p, receiving() as receiver:
        await p.subscribe(receiver.url)
        cancelled = await arrived(p, "reservation.cancelled", 3)  # crossed on the bus
        confirmed = await arrived(p, "reservation.confirmed", 2)
        await eventually(lambda: len(receiver.accepted) == 2)

        page = (await p.client.get("/api/v1/events")).json()["events"]
        assert [(e["id"], e["aggregate_version"]) for e in page] == [
            (cancelled, 3),
            (confirmed, 2),
        ]
        bodies = [r.json for r in receiver.accepted]
        assert [b["id"] for b in bodies] == [cancelled, confirmed]  # the feed's order
        # What the receiver needs to keep the booking cancelled: the versions.
        assert [b.get("aggregate_version") for b in bodies] == [3, 2]

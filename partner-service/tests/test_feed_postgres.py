"""The feed's order under load on PostgreSQL: two replicas appending at once (each event twice,
as a redelivery racing the first delivery) give every partner gap-free increasing cursors and
one entry per event, and a partner reading meanwhile never finds an entry appear behind a
cursor it has passed."""

import asyncio
import uuid
from pathlib import Path

import pytest
from hotel_common.db import drop_database
from hotel_common.testing import scratch_url
from hotel_common.time import utcnow
from partner_service import feed

from .conftest import PartnerService, StartPartnerService, new_partner_id

pytestmark = pytest.mark.infra


async def append(svc: PartnerService, partner_id: str, event_id: str) -> None:
    async with svc.runtime.sessions() as session, session.begin():
        await feed.append(
            session,
            partner_id,
            event_id=event_id,
            event_type="reservation.modified",
            occurred_at=utcnow(),
            payload={"event": event_id},
        )


async def test_concurrent_appends_on_two_replicas_are_gap_free_and_once(
    start_partner_service: StartPartnerService, tmp_path: Path
) -> None:
    url = scratch_url("postgresql", tmp_path, "partner_feed")
    try:
        async with (
            start_partner_service(database_url=url) as one,
            start_partner_service(database_url=url) as two,
        ):
            partners = [new_partner_id(), new_partner_id()]
            events = {p: [str(uuid.uuid4()) for _ in range(60)] for p in partners}
            done = asyncio.Event()
            read: list[dict[str, str]] = []

            async def reader() -> None:  # partner 0, polling from its cursor all along
                after: str | None = None
                while True:
                    finished = done.is_set()
                    page = await one.feed(partners[0], **({"after": after} if after else {}))
                    read.extend(page["events"])
                    after = page["next_cursor"]
                    if finished and not page["has_more"]:
                        return

            polling = asyncio.create_task(reader())
            await asyncio.gather(
                *(
                    append(replica, partner, event_id)
                    for partner in partners
                    for event_id in events[partner]
                    for replica in (one, two)
                )
            )
            done.set()
            await polling

            for partner in partners:
                got = await two.whole_feed(partner, limit=500)
                assert [int(e["cursor"]) for e in got] == list(range(1, 61))
                assert sorted(e["id"] for e in got) == sorted(events[partner])
            # What the reader saw while appends went on is the feed itself, in order.
            assert [e["id"] for e in read] == [
                e["id"] for e in await one.whole_feed(partners[0], limit=500)
            ]
    finally:
        await drop_database(url)

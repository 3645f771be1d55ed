"""Adversarial (issue 21): two replicas on PostgreSQL consuming one queue, each booking event
delivered twice at once (a redelivery racing the first), and a third of the handlers failing
right AFTER the entry was appended (a crash before the commit) and redelivered: the partner's
feed holds each event once with cursors 1..N (no gap, no skipped number), and its webhook
receives every entry in cursor order, nothing lost."""

import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import deliver, eventually, reservation_confirmed, reservation_modified
from partner_service import feed

from .conftest import new_partner_id, reservation_created
from .webhook_support import Platform, platform, receiving

pytestmark = pytest.mark.infra


async def test_a_handler_failing_after_its_append_leaves_no_gap_nor_twin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_adv_crash_{uuid.uuid4().hex[:12]}"
    broker = InMemoryBroker()
    partner_id = new_partner_id()
    plain_append = feed.append
    crashed: set[str] = set()

    async def append_then_crash(*args: Any, **kwargs: Any) -> Any:
        entry = await plain_append(*args, **kwargs)
        event_id = kwargs["event_id"]
        if entry is not None and hash(event_id) % 3 == 0 and event_id not in crashed:
            crashed.add(event_id)
            raise RuntimeError("the process died after appending, before the commit")
        return entry

    monkeypatch.setattr(feed, "append", append_then_crash)
    try:
        async with AsyncExitStack() as stack:
            replicas: list[Platform] = [
                await stack.enter_async_context(
                    platform(tmp_path, database_url=url, broker=broker, retry_delays=[0.01, 0.05])
                )
                for _ in range(2)
            ]
            receiver = await stack.enter_async_context(receiving())
            await replicas[1].subscribe(receiver.url, partner_id=partner_id)
            envelopes: list[Envelope] = []
            for _ in range(4):
                booking = reservation_confirmed(partner_id=partner_id, aggregate_version=2)
                events = [reservation_created(booking), booking] + [
                    reservation_modified(booking, guests=2 + n % 2, aggregate_version=3 + n)
                    for n in range(5)
                ]
                for event in events:
                    envelope = deliver(broker, event)
                    deliver(broker, envelope)  # the same envelope again, at once
                    envelopes.append(envelope)
            expected = len(envelopes)

            async def whole() -> list[dict[str, Any]]:
                page = (
                    await replicas[0]
                    .as_partner(partner_id)
                    .get("/api/v1/events", params={"limit": 500})
                )
                events: list[dict[str, Any]] = page.json()["events"]
                return events

            got = await eventually(whole, lambda e: len(e) >= expected, 20)
            await eventually(lambda: len(receiver.accepted) >= expected, timeout=20)
    finally:
        await drop_database(url)

    assert crashed, "no handler failed: the test proves nothing"
    assert [int(e["cursor"]) for e in got] == list(range(1, expected + 1))
    assert sorted(e["id"] for e in got) == sorted(e.id for e in envelopes)
    assert [r.json["id"] for r in receiver.accepted] == [e["id"] for e in got]

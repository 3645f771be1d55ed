"""Two replicas on one PostgreSQL database and RabbitMQ, both sending: each subscription is
leased by one replica at a time, so every entry reaches its receiver once and in cursor order,
retries included."""

import asyncio
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.events.rabbit import delete_namespace
from hotel_common.testing import eventually

from .webhook_support import Platform, Receiver, new_partner_id, platform, receiving

RABBIT = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.mark.infra
async def test_two_replicas_deliver_each_entry_once_in_order(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_webhooks_{uuid.uuid4().hex[:12]}"
    namespace = f"test-{uuid.uuid4().hex[:8]}."
    options: dict[str, Any] = {
        "database_url": url,
        "bus": "rabbitmq",
        "rabbitmq_url": RABBIT,
        "bus_namespace": namespace,
        "webhook_poll_seconds": 0.02,  # both senders keep polling: they race for every lease
    }
    partners = [new_partner_id(), new_partner_id()]
    try:
        async with AsyncExitStack() as stack:
            replicas: list[Platform] = [
                await stack.enter_async_context(platform(tmp_path, **options)) for _ in range(2)
            ]
            receivers = [
                await stack.enter_async_context(receiving(Receiver(statuses=[500, 503])))
                for _ in range(3)
            ]
            subs = [
                await replicas[0].subscribe(receivers[0].url, partner_id=partners[0]),
                await replicas[1].subscribe(receivers[1].url, partner_id=partners[0]),
                await replicas[0].subscribe(receivers[2].url, partner_id=partners[1]),
            ]
            assert len(subs) == 3

            async def write(replica: Platform, partner_id: str) -> list[str]:
                ids: list[str] = []
                for _ in range(15):
                    ids += await replica.append(partner_id=partner_id)
                return ids

            # Both replicas write both partners' entries at once (the feed numbers them).
            batches = await asyncio.gather(*(write(r, pid) for r in replicas for pid in partners))
            for receiver, partner_id in zip(receivers, [partners[0], *partners], strict=True):
                mine = [
                    i
                    for b, (_, pid) in zip(batches, _pairs(replicas, partners), strict=True)
                    if pid == partner_id
                    for i in b
                ]
                await eventually(lambda r=receiver: len(r.accepted) >= 30, timeout=60)
                await asyncio.sleep(0.3)
                got = receiver.event_ids()
                assert len(got) == len(set(got)) == 30
                assert set(got) == set(mine)
                cursors = [int(r.json["cursor"]) for r in receiver.accepted]
                assert cursors == sorted(cursors)
                # The refused answers were retried: the same entry first, not a later one.
                first = [r.json["cursor"] for r in receiver.requests[:3]]
                assert len(set(first)) == 1
    finally:
        await drop_database(url)
        await delete_namespace(RABBIT, namespace, ["partner-service"], [0.01, 0.05])


def _pairs(replicas: list[Platform], partners: list[str]) -> list[tuple[Platform, str]]:
    return [(r, pid) for r in replicas for pid in partners]

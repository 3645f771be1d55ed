"""Replicas on one PostgreSQL database and one queue: every notice is mailed exactly once."""

import uuid
from contextlib import AsyncExitStack
from typing import Any

from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import MailServer, eventually

from .conftest import Samples, StartService


async def test_three_replicas_never_send_one_notice_twice(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{uuid.uuid4().hex}"
    broker = InMemoryBroker()  # both replicas consume the same service queue
    options: dict[str, Any] = {
        "database_url": url,
        "broker": broker,
        "smtp_url": mail_server.url,
        "delivery_poll_seconds": 0.01,  # both senders keep polling: they race for every row
        "delivery_batch_size": 2,
    }
    events = [samples.confirmed("en") for _ in range(60)]
    try:
        async with AsyncExitStack() as stack:
            first, *_ = [
                await stack.enter_async_context(start_service(**options)) for _ in range(3)
            ]
            for event in events:
                first.deliver(event)

            async def sent() -> list[dict[str, Any]]:
                return await first.notices(status="sent", limit=200)

            await eventually(sent, lambda items: len(items) == len(events), timeout=20)
    finally:
        await drop_database(url)

    ids = [m["X-Notification-Id"] for m in mail_server.messages]
    assert len(ids) == len(events)
    assert len(set(ids)) == len(events)
    assert {m["To"].addresses[0].addr_spec for m in mail_server.messages} == {
        e.guest.email for e in events
    }

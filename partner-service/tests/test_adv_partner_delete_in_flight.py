"""Adversarial (issue 21): a subscription deleted while a delivery to it is in flight. "Its
delivery log and redelivery jobs go with it": the attempt that ends after the DELETE must not
leave a log row behind (orphaned: no partner can read it, nothing but the retention removes
it), and nothing is sent to the deleted subscription again."""

import asyncio
from pathlib import Path

from hotel_common.testing import eventually
from partner_service.subscriptions import DeliveryAttempt, WebhookSubscription
from sqlmodel import select

from .webhook_support import Receiver, platform, receiving


async def test_an_attempt_ending_after_its_subscription_was_deleted_leaves_no_log(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as p, receiving(Receiver(delay=1.0)) as receiver:
        made = await p.subscribe(receiver.url)
        await p.append()

        async def leased() -> bool:
            async with p.runtime.sessions() as session:
                sub = await session.get(WebhookSubscription, made["id"])
                return sub is not None and sub.lease_owner is not None

        await eventually(leased, timeout=5)
        await asyncio.sleep(0.3)  # posted: the receiver holds it a second
        assert receiver.requests == []
        deleted = await p.client.delete(f"/api/v1/webhook-subscriptions/{made['id']}")
        assert deleted.status_code == 204
        await eventually(lambda: len(receiver.requests) == 1, timeout=5)
        await asyncio.sleep(0.5)  # the sender records the answer
        await p.append()
        await asyncio.sleep(0.5)

        async with p.runtime.sessions() as session:
            rows = await session.exec(
                select(DeliveryAttempt).where(DeliveryAttempt.subscription_id == made["id"])
            )
            assert list(rows) == []
        assert len(receiver.requests) == 1

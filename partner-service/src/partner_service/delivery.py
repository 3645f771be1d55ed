"""Webhook deliveries: each subscription's entries, in cursor order (helper: webhooks)."""

import asyncio

from hotel_common.service import Runtime

from partner_service.config import Settings


async def deliver_forever(runtime: Runtime[Settings]) -> None:
    """Send due deliveries (not written yet)."""
    await asyncio.Event().wait()

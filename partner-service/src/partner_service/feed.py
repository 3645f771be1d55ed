"""The feed: appending entries per partner, reading from a cursor, purging (helper: feed)."""

import asyncio

from hotel_common.service import Runtime

from partner_service.config import Settings


async def purge_forever(runtime: Runtime[Settings]) -> None:
    """Remove entries older than the retention (not written yet)."""
    await asyncio.Event().wait()

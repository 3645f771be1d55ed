"""The feedback part's timed work: surveys whose send time has come go out, and complaint cases
past a deadline are escalated. Each step is a function tests call with their own `now`."""

import asyncio
import logging
from datetime import datetime

from hotel_common.db import transaction
from hotel_common.service import Runtime
from hotel_common.tasks import raise_if_cancelled
from hotel_common.time import utcnow

from guest_service import complaints, surveys
from guest_service.config import Settings

log = logging.getLogger(__name__)


async def step(runtime: Runtime[Settings], now: datetime) -> tuple[int, int]:
    """(surveys sent, cases escalated) by `now`, each in its own transaction."""
    async with transaction(runtime.sessions) as session:
        sent = await surveys.send_due(session, runtime.settings, now)
    async with transaction(runtime.sessions) as session:
        escalated = await complaints.escalate_breached(session, now)
    return sent, len(escalated)


async def feedback_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: one step every `feedback_interval_seconds`."""
    while True:
        raise_if_cancelled()
        await asyncio.sleep(runtime.settings.feedback_interval_seconds)
        try:
            await step(runtime, utcnow())
        except Exception:
            log.exception("feedback step failed; will try again")

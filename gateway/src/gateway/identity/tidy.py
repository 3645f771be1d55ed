"""Housekeeping of the identity store: sign-in codes and refresh tokens that can no longer be
used are deleted a day after they stopped working (kept that long for investigating a
complaint). Audit entries are kept."""

import asyncio
import logging
from datetime import datetime, timedelta

from hotel_common.db import SessionFactory
from hotel_common.time import utcnow
from sqlalchemy import delete
from sqlmodel import col

from gateway.identity.models import RefreshToken, SignInCode

log = logging.getLogger(__name__)

GRACE = timedelta(days=1)


async def prune(sessions: SessionFactory, now: datetime | None = None) -> dict[str, int]:
    """Delete what expired more than GRACE before `now`; the number of rows per table."""
    cutoff = (now or utcnow()) - GRACE
    async with sessions() as session:
        codes = await session.exec(delete(SignInCode).where(col(SignInCode.expires_at) < cutoff))
        tokens = await session.exec(
            delete(RefreshToken).where(col(RefreshToken.expires_at) < cutoff)
        )
        await session.commit()
    return {"sign_in_codes": codes.rowcount, "refresh_tokens": tokens.rowcount}


async def keep_pruning(sessions: SessionFactory, interval: float) -> None:
    while True:
        try:
            removed = await prune(sessions)
            if any(removed.values()):
                log.info("identity store pruned", extra=removed)
        except Exception:
            log.warning("identity store not pruned this time", exc_info=True)
        await asyncio.sleep(interval)

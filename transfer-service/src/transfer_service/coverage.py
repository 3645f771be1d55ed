"""Jobs that cannot be covered (issue 18): retried when the fleet, a shift or another job
changes, and periodically by a worker.

CONTRACT (the body is the scheduling helper's to write): `retry_uncovered` tries to assign every
`requested` job whose pickup is still ahead (optionally of one local day), in pickup order,
raising `transfer.assigned` for each one covered; answers the jobs it covered. Callers run it in
their own transaction, after their change is flushed.
"""

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.config import Settings
from transfer_service.models import TransferJob


async def retry_uncovered(
    session: AsyncSession, settings: Settings, *, day: date | None = None
) -> list[TransferJob]:
    return []

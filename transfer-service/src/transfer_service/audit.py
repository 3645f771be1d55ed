"""The audit trail of transfer jobs: who did what to a job and when, written in the same
transaction as the change so a change is never without its line (and a refused one has none)."""

from typing import Any

from hotel_common.principal import Principal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import TransferAudit

SYSTEM = "system"  # a handler or a worker, acting on an event or a timer


def actor_of(principal: Principal) -> str:
    """The caller as the trail names it: its stable subject ("staff:7"), never a name."""
    return principal.id


def record(session: AsyncSession, transfer_id: str, actor: str, action: str, **detail: Any) -> None:
    """Add one line to the job's trail; `detail` must be JSON (ids, times as ISO text)."""
    session.add(TransferAudit(transfer_id=transfer_id, actor=actor, action=action, detail=detail))


async def trail(session: AsyncSession, transfer_id: str) -> list[TransferAudit]:
    """The job's trail, oldest first."""
    query = (
        select(TransferAudit)
        .where(TransferAudit.transfer_id == transfer_id)
        .order_by(col(TransferAudit.at), col(TransferAudit.id))
    )
    return list((await session.exec(query)).all())

"""Jobs that cannot be covered (issue 18): retried when the fleet, a shift or another job
changes, and periodically by a worker of the service.

`retry_uncovered` tries to assign every `requested` job whose driver-on-site time is still
ahead (optionally of one local day), in pickup order, raising `transfer.assigned` for each one
covered and writing its audit line; answers the jobs it covered. Callers run it in their own
transaction, after their change is flushed. One `Planner` serves the whole pass: the fleet, the
shifts and the live jobs are read once, not once per job.

Locks: the requested jobs are claimed first (PostgreSQL: FOR UPDATE SKIP LOCKED, so a job a
handler or dispatch is changing right now is left to the next pass, and nobody waits), then the
planner locks vehicles and drivers as every assignment does: jobs, vehicles, drivers, the same
order everywhere.
"""

import asyncio
import logging
from datetime import date, datetime

from hotel_common.db import transaction
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit
from transfer_service.announce import record_assigned, transfer_assigned
from transfer_service.assignment import Planner
from transfer_service.config import Settings
from transfer_service.models import TransferJob, TransferStatus

log = logging.getLogger(__name__)


async def retry_uncovered(
    session: AsyncSession,
    settings: Settings,
    *,
    day: date | None = None,
    now: datetime | None = None,
    actor: str = audit.SYSTEM,
) -> list[TransferJob]:
    now = now or utcnow()
    query = (
        select(TransferJob)
        .where(
            col(TransferJob.status) == TransferStatus.REQUESTED,
            col(TransferJob.driver_on_site_at) > now,
        )
        .order_by(col(TransferJob.pickup_time), col(TransferJob.id))
        .with_for_update(skip_locked=True)
    )
    if day is not None:
        query = query.where(col(TransferJob.pickup_date) == day)
    waiting = list((await session.exec(query)).all())
    if not waiting:
        return []
    planner = await Planner.load(
        session,
        settings,
        min(j.busy_from for j in waiting),
        max(j.busy_until for j in waiting),
        {j.pickup_date for j in waiting},
    )
    covered: list[TransferJob] = []
    for job in waiting:
        before = job.uncovered_reason
        assignment = planner.assign(job, now=now)
        if assignment is None:
            if job.uncovered_reason != before:
                job.version += 1
                audit.record(session, job.id, actor, "uncovered", reason=job.uncovered_reason)
            session.add(job)
            continue
        job.version += 1
        session.add(job)
        record_assigned(session, job, assignment, actor, retried=True)
        add_event(session, transfer_assigned(job, assignment))
        covered.append(job)
    if covered:
        log.info("uncovered transfers covered", extra={"covered": len(covered)})
    await session.flush()
    return covered


async def retry_forever(runtime: Runtime[Settings]) -> None:
    """ServiceSpec worker: retry the uncovered jobs every `retry_interval_seconds`."""
    while True:
        await asyncio.sleep(runtime.settings.retry_interval_seconds)
        try:
            async with transaction(runtime.sessions) as session:
                await retry_uncovered(session, runtime.settings)
        except Exception:
            log.exception("retrying uncovered transfers failed; will try again")

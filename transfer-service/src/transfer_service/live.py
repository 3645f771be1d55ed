"""A job's live steps as its driver (or dispatch) reports them: en route, on site, guest on
board, completed, or no-show. Forward only, each step timestamped on the job, audited and
published as `transfer.status_changed`; completion issues the receipt (fares.py).

    assigned -> en_route -> driver_on_site -> in_progress -> completed
    assigned ------------->  driver_on_site -> no_show

No-show: only once the driver's arrival on site is recorded and the free waiting time has
passed: counted from the later of the guest's arrival (the pickup time, which follows flight
updates) and the driver's recorded arrival (a guest cannot be blamed for not meeting a driver
who was not there yet): 60 minutes for international flights, 45 domestic, 15 trains
(settings); a job whose transport is unknown waits the international time.

The job row is locked (SELECT ... FOR UPDATE) before its status is read, so two reports racing
for one step cannot both succeed: the second sees the first's status and gets 409.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hotel_common.errors import ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit, fares, jobs, outbound
from transfer_service.config import Settings
from transfer_service.dispatch import lock_job
from transfer_service.models import (
    Driver,
    ProgressStatus,
    TransferJob,
    TransferStatus,
    Transport,
    Vehicle,
)


class Step(StrEnum):
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    ON_BOARD = "on_board"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class Move:
    before: tuple[TransferStatus, ...]
    after: TransferStatus
    stamp: str  # the job's column recording when


MOVES = {
    Step.EN_ROUTE: Move((TransferStatus.ASSIGNED,), TransferStatus.EN_ROUTE, "en_route_at"),
    Step.ON_SITE: Move(
        (TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE),
        TransferStatus.DRIVER_ON_SITE,
        "on_site_at",
    ),
    Step.ON_BOARD: Move(
        (TransferStatus.DRIVER_ON_SITE,), TransferStatus.IN_PROGRESS, "on_board_at"
    ),
    Step.COMPLETE: Move((TransferStatus.IN_PROGRESS,), TransferStatus.COMPLETED, "completed_at"),
    Step.NO_SHOW: Move((TransferStatus.DRIVER_ON_SITE,), TransferStatus.NO_SHOW, "no_show_at"),
}
# The old progress report (`POST /transfers/{id}/progress`) names the state reached.
FROM_PROGRESS = {
    ProgressStatus.DRIVER_ON_SITE: Step.ON_SITE,
    ProgressStatus.IN_PROGRESS: Step.ON_BOARD,
    ProgressStatus.COMPLETED: Step.COMPLETE,
}


def free_wait(job: TransferJob, settings: Settings) -> timedelta:
    by_transport = {
        Transport.TRAIN: settings.wait_train_minutes,
        Transport.DOMESTIC_FLIGHT: settings.wait_domestic_minutes,
    }
    minutes = settings.wait_international_minutes  # international, or unknown: the longest
    if job.transport:
        minutes = by_transport.get(Transport(job.transport), minutes)
    return timedelta(minutes=minutes)


def wait_ends(job: TransferJob, settings: Settings) -> datetime:
    """When the free waiting time is over (the driver's arrival must be recorded)."""
    assert job.on_site_at is not None
    return max(job.pickup_time, job.on_site_at) + free_wait(job, settings)


async def report(
    session: AsyncSession,
    settings: Settings,
    transfer_id: str,
    step: Step,
    visible: ColumnElement[bool] | None,
    actor: str,
) -> None:
    """Move a job `visible` to the caller one step on; 404 if not visible, 409 otherwise."""
    job = await lock_job(session, transfer_id, visible)
    move = MOVES[step]
    now = utcnow()
    if step is Step.NO_SHOW:
        _no_show_allowed(job, settings, now)
    if job.status not in move.before:
        raise ProblemError(
            409,
            "invalid_transition",
            f"The transfer is {job.status}; only one that is "
            + " or ".join(str(s) for s in move.before)
            + f" can become {move.after}.",
            current_status=str(job.status),
        )
    previous = job.status
    job.status = move.after
    setattr(job, move.stamp, now)
    detail: dict[str, object] = {"previous_status": str(previous)}
    receipt = None
    if step is Step.ON_BOARD and job.on_site_at is not None:
        past_free = now - wait_ends(job, settings)
        job.waiting_minutes = max(0, math.ceil(past_free.total_seconds() / 60))
        detail["waiting_minutes"] = job.waiting_minutes
    jobs.touch(job)
    session.add(job)
    if step is Step.COMPLETE:
        await session.flush()
        vehicle = await session.get(Vehicle, job.vehicle_id) if job.vehicle_id else None
        receipt = await fares.issue_receipt(session, job, vehicle, settings)
        if receipt is not None:
            job.fare_amount, job.fare_currency = receipt.amount, receipt.currency
            detail |= {"receipt_number": receipt.number, "fare_amount": receipt.amount}
    audit.record(session, job.id, actor, str(step), **detail)
    crew = None
    if step is Step.ON_SITE:  # the guest's notice names the car and driver to look for
        crew = (
            await session.get(Vehicle, job.vehicle_id) if job.vehicle_id else None,
            await session.get(Driver, job.driver_id) if job.driver_id else None,
        )
    add_event(session, outbound.status_changed(job, previous, now, receipt, crew=crew))


def _no_show_allowed(job: TransferJob, settings: Settings, now: datetime) -> None:
    waiting = job.status == TransferStatus.DRIVER_ON_SITE
    if job.status in (TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE) or (
        waiting and job.on_site_at is None
    ):
        raise ProblemError(
            409,
            "arrival_not_recorded",
            "A no-show needs the driver's arrival on site recorded first (POST .../on-site).",
            current_status=str(job.status),
        )
    if not waiting:
        return  # another state: the transition check answers
    ends = wait_ends(job, settings)
    if now < ends:
        raise ProblemError(
            409,
            "waiting_time_not_over",
            "The guest's free waiting time is not over yet.",
            no_show_from=ends.isoformat(),
        )

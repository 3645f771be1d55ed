"""A guest erased in guest-service (`guest.erased`): transfer-service forgets the person in
their jobs and keeps the rides, fares and receipts.

The jobs reached: those of the reservations the event names, and any job held under one of
the guest's emails (an ad-hoc ride asked for from the guest app). A phone alone reaches none
(an OTA's call-centre number may be on many guests' jobs).

On each: the name becomes "Erased guest", the email an address of no one
(`erased-<job id>@erased.invalid`), the phone, the meet-and-greet sign name and the notes go.
The jobs' audit lines and receipt lines, and the shared tables (outbox, Idempotency-Key
answers: hotel_common.erasure), are scrubbed of the event's values. Idempotent: a redelivery
finds nothing left to change.
"""

import logging

from hotel_common.contracts.guests import GuestErased
from hotel_common.erasure import redact, scrub
from hotel_common.time import utcnow
from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import Receipt, TransferAudit, TransferJob

log = logging.getLogger(__name__)

ERASED_NAME = "Erased guest"


def erased_email(job_id: str) -> str:
    return f"erased-{job_id}@erased.invalid"


async def forget_guest(session: AsyncSession, erased: GuestErased) -> None:
    values = [*erased.emails, *erased.phones, *erased.names]
    reached = []
    if erased.reservation_ids:
        reached.append(col(TransferJob.reservation_id).in_(erased.reservation_ids))
    if erased.emails:
        reached.append(
            func.lower(col(TransferJob.guest_email)).in_([e.lower() for e in erased.emails])
        )
    jobs: list[TransferJob] = []
    if reached:
        jobs = list((await session.exec(select(TransferJob).where(or_(*reached)))).all())
    now = utcnow()
    for job in jobs:
        if job.guest_name == ERASED_NAME and job.guest_email == erased_email(job.id):
            continue  # forgotten already (a redelivery)
        job.guest_name = ERASED_NAME
        job.guest_email = erased_email(job.id)
        job.guest_phone = None
        job.sign_name = None
        job.notes = None
        if job.cancel_reason:
            job.cancel_reason = redact(job.cancel_reason, values)
        job.updated_at = now
        session.add(job)
    ids = [j.id for j in jobs]
    if ids:
        lines = await session.exec(
            select(TransferAudit).where(col(TransferAudit.transfer_id).in_(ids))
        )
        for line in lines.all():
            cleaned = redact(line.detail, values)
            if cleaned != line.detail:
                line.detail = cleaned
                session.add(line)
        receipts = await session.exec(select(Receipt).where(col(Receipt.transfer_id).in_(ids)))
        for receipt in receipts.all():
            cleaned = redact(receipt.lines, values)
            if cleaned != receipt.lines:
                receipt.lines = cleaned
                session.add(receipt)
    await session.flush()
    scrubbed = await scrub(session, values)
    log.info(
        "guest erased from transfers",
        extra={"guest_id": erased.guest_id, "jobs": len(ids), "scrubbed": scrubbed},
    )

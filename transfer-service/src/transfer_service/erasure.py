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
from hotel_common.erasure import ERASED_NAME, erased_email, reached_rows, redact, redact_rows, scrub
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import Receipt, TransferAudit, TransferJob

log = logging.getLogger(__name__)


async def forget_guest(session: AsyncSession, erased: GuestErased) -> None:
    values = [*erased.emails, *erased.phones, *erased.names]
    jobs = await reached_rows(
        session,
        TransferJob,
        TransferJob.reservation_id,
        erased.reservation_ids,
        TransferJob.guest_email,
        erased.emails,
    )
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
    await redact_rows(session, TransferAudit, TransferAudit.transfer_id, ids, "detail", values)
    await redact_rows(session, Receipt, Receipt.transfer_id, ids, "lines", values)
    await session.flush()
    scrubbed = await scrub(session, values)
    log.info(
        "guest erased from transfers",
        extra={"guest_id": erased.guest_id, "jobs": len(ids), "scrubbed": scrubbed},
    )

"""Free rides granted for complaint cases (`complaint.transfer_compensation`, issue 19).

guest-service decides the remedy; the ride is given here, once per case (a `RideWaiver` row
unique by case id: a redelivery, or the case's grant published again, adds nothing):
- a case naming a ride whose receipt is issued: the receipt gets a `waived` line cancelling
  its charge (it then shows 0);
- a case naming a ride not completed yet: the waiver waits for it; its receipt is issued with
  the `waived` line;
- a case naming no ride, or one that is free anyway (cancelled, no-show, included in the rate
  plan, or already waived for another case): a voucher on the booking, taken by the booking's
  next ride to be charged (its receipt shows the `waived` line);
- a case naming neither a known ride nor a booking: logged by ids, consumed (nothing to give
  it to; a retry could never succeed).
A voucher never waives a ride that costs nothing, and one ride carries at most one waiver.
"""

import logging
from typing import Any

from hotel_common.contracts.complaints import TransferCompensationGranted
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service import audit
from transfer_service.models import Receipt, RideWaiver, TransferJob, TransferStatus

log = logging.getLogger(__name__)

# Rides that will never be charged: a free ride for them would give nothing.
UNCHARGED = frozenset({TransferStatus.CANCELLED, TransferStatus.NO_SHOW})


async def on_transfer_compensation(
    session: AsyncSession, grant: TransferCompensationGranted
) -> None:
    ids: dict[str, Any] = {
        "case_id": grant.case_id,
        "transfer_id": grant.transfer_id,
        "reservation_id": grant.reservation_id,
    }
    known = await session.exec(select(RideWaiver.id).where(RideWaiver.case_id == grant.case_id))
    if known.first() is not None:
        log.info("free ride of this case already granted", extra=ids)
        return
    job = None
    if grant.transfer_id is not None:
        found = await session.exec(
            select(TransferJob).where(TransferJob.id == grant.transfer_id).with_for_update()
        )
        job = found.first()
    reservation_id = grant.reservation_id or (job.reservation_id if job else None)
    if job is None and reservation_id is None:
        log.warning("free ride for an unknown transfer and no booking: not granted", extra=ids)
        return
    waiver = RideWaiver(
        case_id=grant.case_id,
        case_number=grant.case_number,
        reservation_id=reservation_id,
        reason=grant.reason[:200],
    )
    receipt = None
    if job is not None and await _waivable(session, job):
        waiver.transfer_id = job.id
        receipt = (await session.exec(select(Receipt).where(Receipt.transfer_id == job.id))).first()
    if not await try_insert(session, waiver):  # the same case granted concurrently
        log.info("free ride of this case already granted", extra=ids)
        return
    if receipt is not None and job is not None:
        _waive(receipt, job, waiver)
        session.add(receipt)
        session.add(job)
    if waiver.transfer_id is not None:
        action = "fare_waived" if receipt is not None else "free_ride_granted"
        audit.record(session, waiver.transfer_id, audit.SYSTEM, action, case=grant.case_id)
    await session.flush()
    log.info(
        "free ride granted",
        extra={**ids, "on": "ride" if waiver.transfer_id else "voucher"},
    )


async def _waivable(session: AsyncSession, job: TransferJob) -> bool:
    """The ride will cost (or cost) something and no other case made it free."""
    if job.status in UNCHARGED or job.fare_included:
        return False
    if job.status == TransferStatus.COMPLETED and not job.fare_amount:
        return False
    taken = await session.exec(select(RideWaiver.id).where(RideWaiver.transfer_id == job.id))
    return taken.first() is None


def _waive(receipt: Receipt, job: TransferJob, waiver: RideWaiver) -> None:
    charged = sum(int(line["amount"]) for line in receipt.lines)
    if charged > 0:
        note = f"free ride: complaint {waiver.case_number}"
        receipt.lines = [*receipt.lines, {"code": "waived", "amount": -charged, "note": note}]
    receipt.amount = sum(int(line["amount"]) for line in receipt.lines)
    job.fare_amount = receipt.amount
    waiver.used_at = utcnow()


async def on_receipt(session: AsyncSession, job: TransferJob, receipt: Receipt) -> None:
    """A receipt just issued for `job`: the waiver waiting for this ride, else the oldest
    voucher of its booking, makes it free (nothing when the ride costs nothing)."""
    if receipt.amount <= 0:
        return
    waiting = select(RideWaiver).where(
        RideWaiver.transfer_id == job.id, col(RideWaiver.used_at).is_(None)
    )
    waiver = (await session.exec(waiting)).first()
    if waiver is None:
        # Two rides of one booking charged at once take the voucher one after the other: the
        # second finds it used (PostgreSQL re-reads the locked row against the condition).
        voucher = (
            select(RideWaiver)
            .where(
                RideWaiver.reservation_id == job.reservation_id,
                col(RideWaiver.transfer_id).is_(None),
            )
            .order_by(col(RideWaiver.id))
            .limit(1)
            .with_for_update()
        )
        waiver = (await session.exec(voucher)).first()
        if waiver is None:
            return
        waiver.transfer_id = job.id
    _waive(receipt, job, waiver)
    session.add(waiver)
    audit.record(session, job.id, audit.SYSTEM, "fare_waived", case=waiver.case_id)

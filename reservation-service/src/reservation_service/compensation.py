"""Complaint compensation on a booking's folio (`complaint.folio_compensation`, issue 19).

guest-service decides the remedy of a complaint case; the money goes back here, on the folio of
the booking the case names, once per case:
- a `compensation` line of -amount (its `reference` is `complaint:<case id>`, unique: a
  redelivery, or the case's event published again, finds it and adds nothing) lowers what the
  guest owes;
- it is paid out at once by refund lines (the deposit's and payments' methods, as check-out
  refunds) when the case says `refund`, or when the folio is closed (checked out, cancelled,
  no-show): nobody settles a closed folio again. A payout never gives back more than the guest
  paid on the booking (net of refunds, and of a cancellation's refund); what is left stays on
  the folio as money the hotel owes (a negative balance) for the desk to pay out by hand;
- a `credit` on an open folio (confirmed or checked in) only lowers the balance: check-out
  settles it (refunding anything paid beyond the charges).
The stay's charges (amount_spent, what loyalty points are earned on) do not change.

An unknown booking, or a case in another currency than the folio's, is logged by ids and
consumed (nothing is posted; retrying could never succeed): guest-service names the booking
of the case, so either means the two services disagree, which an operator looks at.
"""

import logging

from hotel_common.contracts.complaints import FolioCompensationGranted
from hotel_common.errors import NotFound
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import folio
from reservation_service.access import EVERY_BOOKING, system
from reservation_service.bookings import load
from reservation_service.models import ReservationStatus
from reservation_service.stay_models import FolioLine, LineKind

log = logging.getLogger(__name__)

S = ReservationStatus
# Folios nobody settles again: a compensation on them is paid out at once.
CLOSED = frozenset({S.CHECKED_OUT, S.CANCELLED, S.NO_SHOW, S.EXPIRED})
ACTOR = system("complaints")


def reference_of(case_id: str) -> str:
    return f"complaint:{case_id}"


async def on_folio_compensation(session: AsyncSession, grant: FolioCompensationGranted) -> None:
    ids = {"case_id": grant.case_id, "reservation_id": grant.reservation_id}
    try:
        booking = await load(session, grant.reservation_id, EVERY_BOOKING, lock=True)
    except NotFound:
        log.warning("complaint compensation for an unknown booking: not posted", extra=ids)
        return
    r = booking.reservation
    reference = reference_of(grant.case_id)
    posted = await session.exec(select(FolioLine.id).where(FolioLine.reference == reference))
    if posted.first() is not None:
        log.info("complaint compensation already on the folio", extra=ids)
        return
    if grant.currency.upper() != r.currency.upper():
        log.warning(
            "complaint compensation in another currency than the folio's: not posted",
            extra={**ids, "currency": grant.currency, "folio_currency": r.currency},
        )
        return
    # What the guest paid and has not had back: the most a payout gives back.
    paid = await folio.paid_amount(session, r.id)
    if r.status == S.CANCELLED:
        paid -= r.refund_amount or 0
    session.add(
        FolioLine(
            reservation_id=r.id,
            kind=LineKind.COMPENSATION.value,
            amount=-grant.amount,
            description=grant.reason[:200],
            currency=r.currency,
            posted_by=ACTOR.id,
            reference=reference,
        )
    )
    await session.flush()
    refunded = 0
    if grant.kind == "refund" or S(r.status) in CLOSED:
        refunded = await folio.refund_credit(
            session, booking, ACTOR, most=min(grant.amount, max(paid, 0)), why=grant.case_number
        )
    log.info(
        "complaint compensation posted",
        extra={**ids, "amount": grant.amount, "refunded": refunded},
    )

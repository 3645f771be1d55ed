"""Compensation for a complaint, carried out by the service that owns what is given (issue 19).

guest-service decides a remedy; money goes back on the booking's folio in reservation-service,
a ride is waived or given by transfer-service. Each event names its case, so a consumer applies
it once per case (`case_id` is its reference) and ignores a redelivery.
"""

from typing import ClassVar, Literal

from pydantic import Field

from hotel_common.events.envelope import IntegrationEvent

COMPLAINT = ("complaint", "case_id")


class FolioCompensationGranted(IntegrationEvent):
    """Give the guest `amount` back on the booking's folio: `refund` pays it out through the
    folio's payment method(s), `credit` lowers what the guest still owes (a stay not yet
    settled). Posted once per case."""

    event_type: ClassVar[str] = "complaint.folio_compensation"
    aggregate: ClassVar[tuple[str, str] | None] = COMPLAINT

    case_id: str
    case_number: str
    reservation_id: str
    kind: Literal["refund", "credit"]
    amount: int = Field(gt=0)  # minor units of `currency`
    currency: str
    reason: str  # what the folio line says, e.g. "Complaint C-300601-7K3Q: noisy room"


class TransferCompensationGranted(IntegrationEvent):
    """Waive the fare of `transfer_id` (its receipt shows 0), or, with no transfer named, give
    the booking's next ride free (a voucher on `reservation_id`)."""

    event_type: ClassVar[str] = "complaint.transfer_compensation"
    aggregate: ClassVar[tuple[str, str] | None] = COMPLAINT

    case_id: str
    case_number: str
    transfer_id: str | None
    reservation_id: str | None
    reason: str

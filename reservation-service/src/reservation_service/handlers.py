"""Events reservation-service consumes (one line per handler; the handlers live in their own
modules): a guest erased in guest-service is forgotten in the bookings (erasure.py); loyalty
tiers price the member rate (member_rates.py); a complaint's compensation goes on the booking's
folio (compensation.py)."""

from hotel_common.contracts.complaints import FolioCompensationGranted
from hotel_common.contracts.guests import GuestErased, LoyaltyTierChanged
from hotel_common.service import Runtime

from reservation_service import compensation, erasure, member_rates
from reservation_service.config import Settings


def subscribe(runtime: Runtime[Settings]) -> None:
    runtime.handle(GuestErased, erasure.forget_guest, name="reservation.forget_guest")
    runtime.handle(LoyaltyTierChanged, member_rates.on_tier_changed, name="reservation.member_rate")
    runtime.handle(
        FolioCompensationGranted,
        compensation.on_folio_compensation,
        name="reservation.complaint_compensation",
    )

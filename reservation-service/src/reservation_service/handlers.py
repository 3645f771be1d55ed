"""Events reservation-service consumes (issue 19): guest-service's loyalty tiers price the
member rate."""

from hotel_common.contracts.guests import LoyaltyTierChanged
from hotel_common.service import Runtime

from reservation_service import member_rates
from reservation_service.config import Settings


def subscribe(runtime: Runtime[Settings]) -> None:
    runtime.handle(LoyaltyTierChanged, member_rates.on_tier_changed, name="reservation.member_rate")

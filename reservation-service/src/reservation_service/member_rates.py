"""The member rate: guest-service's loyalty tiers as this service prices them.

A projection of `loyalty.tier_changed` (guest-service publishes one at enrolment, promotion,
lapse, merge and erasure): per guest its tier and discount and the guest's email addresses,
newest version of the guest wins. A quote or booking made for one of those addresses (the
booking's email, or the signed-in guest's) under the BASE plan is priced at the member rate:
every night less the tier's discount (10 / 15 / 20 / 25 %), taxes on the discounted amount.
Other plans are offers of their own and are not combined with it (docs/DECISIONS.md).
"""

import logging
from dataclasses import replace
from datetime import datetime

from hotel_common.contracts.guests import LoyaltyTierChanged
from hotel_common.events.envelope import newer_than_stored
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import bindparam, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service import pricing
from reservation_service.models import Property
from reservation_service.rates import engine
from reservation_service.rates.models import BASE_CODE

log = logging.getLogger(__name__)


class LoyaltyMemberRate(SQLModel, table=True):
    """A guest's tier as guest-service last said (tier None: not a member now)."""

    __tablename__ = "loyalty_member_rates"

    guest_id: str = Field(primary_key=True, max_length=36)
    tier: str | None = Field(default=None, max_length=16)
    discount_percent: int = 0
    version: int | None = None  # the guest's version the row reflects
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LoyaltyMemberEmail(SQLModel, table=True):
    """An address of a current member (removed when the membership ends or the address
    leaves the profile): how a booking finds its member."""

    __tablename__ = "loyalty_member_emails"

    email: str = Field(primary_key=True, max_length=254)  # normalised: trimmed, lower-case
    guest_id: str = Field(foreign_key="loyalty_member_rates.guest_id", index=True, max_length=36)


def normalised(email: str) -> str:
    return email.strip().lower()


async def on_tier_changed(session: AsyncSession, event: LoyaltyTierChanged) -> None:
    """Keep the guest's tier and addresses as the newest event says (a stale one is dropped)."""
    row = await session.get(LoyaltyMemberRate, event.guest_id, with_for_update=True)
    if row is not None and not newer_than_stored(event.aggregate_version, row.version):
        log.info("stale loyalty tier ignored", extra={"guest_id": event.guest_id})
        return
    if row is None:
        row = LoyaltyMemberRate(guest_id=event.guest_id)
    row.tier = event.tier
    row.discount_percent = event.discount_percent if event.tier is not None else 0
    row.version = event.aggregate_version
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await session.exec(
        delete(LoyaltyMemberEmail).where(col(LoyaltyMemberEmail.guest_id) == event.guest_id)
    )
    emails = sorted({normalised(e) for e in event.emails}) if event.tier is not None else []
    if emails:
        # An address another profile held before (a merge, a correction) is this guest's now.
        await session.exec(
            delete(LoyaltyMemberEmail).where(col(LoyaltyMemberEmail.email).in_(emails))
        )
        session.add_all(LoyaltyMemberEmail(email=e, guest_id=event.guest_id) for e in emails)
    log.info("member rate updated", extra={"guest_id": event.guest_id, "tier": event.tier})


# Built once (its cache key too): every quote and booking looks its email up.
_RATE_OF = (
    select(LoyaltyMemberRate)
    .join(LoyaltyMemberEmail, col(LoyaltyMemberEmail.guest_id) == LoyaltyMemberRate.guest_id)
    .where(LoyaltyMemberEmail.email == bindparam("email"))
    .where(col(LoyaltyMemberRate.tier).is_not(None))
)


async def rate_for(session: AsyncSession, email: str | None) -> LoyaltyMemberRate | None:
    """The member rate of the guest holding `email`, if a member now."""
    if not email:
        return None
    return (await session.exec(_RATE_OF, params={"email": normalised(email)})).first()


def eligible(quote: pricing.StayQuote) -> bool:
    """Whether the member rate may apply to `quote` (the BASE plan only): when none of a
    request's quotes is, the member-rate read is skipped."""
    return quote.rate_plan_code == BASE_CODE


def apply(
    quote: pricing.StayQuote, prop: Property, rate: LoyaltyMemberRate | None
) -> pricing.StayQuote:
    """The quote at the member rate (BASE plan only), or as it is."""
    if rate is None or rate.tier is None or not rate.discount_percent:
        return quote
    if not eligible(quote):
        return quote
    nights = [
        pricing.NightPrice(n.night, engine.discounted(n.amount, rate.discount_percent * 100))
        for n in quote.nights
    ]
    room = sum(n.amount for n in nights)
    tax = pricing.tax_of(prop, room)
    return replace(
        quote,
        nights=nights,
        room_amount=room,
        tax_amount=tax,
        total_amount=room + tax,
        member=pricing.MemberDiscount(
            tier=rate.tier,
            percent=rate.discount_percent,
            amount=quote.room_amount - room,
        ),
    )


async def priced(
    session: AsyncSession, quote: pricing.StayQuote, prop: Property, email: str | None
) -> pricing.StayQuote:
    """`quote` at the member rate of `email`'s guest, if any."""
    if not eligible(quote):
        return quote
    return apply(quote, prop, await rate_for(session, email))

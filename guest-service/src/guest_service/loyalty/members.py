"""Members: enrolment, tiers and what is published when a tier changes.

Enrolment is automatic once one stay's settled folio reaches `loyalty_enrol_min_cny` yuan, or on
request (staff, or the guest) for a guest with such a stay; a manager may waive it. A tier is
promoted when the settled spend or the completed stays of the rolling window reach its threshold
(Settings); it is never lowered by the window sliding on, only by the membership lapsing.
Every change of tier (enrolment, promotion, lapse, merge, erasure) publishes
`LoyaltyTierChanged` with the guest's version bumped, so reservation-service prices the member
rate from the newest.
"""

import logging
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from hotel_common.contracts.guests import LoyaltyTierChanged
from hotel_common.errors import NotFound, ProblemError
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, money, value, versions
from guest_service.config import Settings
from guest_service.models import ContactKind, Guest, GuestStatus, GuestStay, StayStatus
from guest_service.models.loyalty import (
    COUNTED,
    DISCOUNT_PERCENT,
    TIER_ORDER,
    EnrolledBy,
    LedgerLine,
    LoyaltyMember,
    MemberPublic,
    MemberStatus,
    PointsState,
    Tier,
)

log = logging.getLogger(__name__)

NUMBER_ATTEMPTS = 5


def new_member_number() -> str:
    """ "M" and nine random digits: short enough to read out at the desk, not guessable."""
    return f"M{secrets.randbelow(10**9):09d}"


async def member_of(
    session: AsyncSession, guest_id: str, *, lock: bool = False
) -> LoyaltyMember | None:
    """The guest's membership (any status); `lock`: held until the transaction ends
    (PostgreSQL row lock; SQLite's writer lock already serialises), the guest's profile row
    locked first: merges, erasures and check-outs lock profile then membership, and so does
    every path through here, so no two of them wait on each other in a circle."""
    if lock:
        await _lock_guest(session, guest_id)
    query = select(LoyaltyMember).where(LoyaltyMember.guest_id == guest_id)
    if lock:
        # Refreshed from the locked row: an object already in the session may be stale.
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def _lock_guest(session: AsyncSession, guest_id: str) -> None:
    await session.exec(select(Guest.id).where(Guest.id == guest_id).with_for_update())


async def by_number(session: AsyncSession, number: str, *, lock: bool = False) -> LoyaltyMember:
    query = select(LoyaltyMember).where(LoyaltyMember.member_number == number.strip().upper())
    member = (await session.exec(query)).first()
    if member is not None and lock:
        # Profile first, then the membership (member_of); a merge meanwhile may have moved it.
        await _lock_guest(session, member.guest_id)
        locked = query.with_for_update().execution_options(populate_existing=True)
        member = (await session.exec(locked)).first()
    if member is None:
        raise NotFound("member", number)
    return member


def current_tier(member: LoyaltyMember) -> Tier | None:
    """The tier the member enjoys now: none unless the membership is active."""
    return Tier(member.tier) if member.status == MemberStatus.ACTIVE else None


async def points_of(session: AsyncSession, member_id: str) -> tuple[int, int]:
    """(balance, pending): the sum of the counted lines, and of the pending ones."""
    rows = (
        await session.exec(
            select(LedgerLine.state, func.coalesce(func.sum(LedgerLine.points), 0))
            .where(LedgerLine.member_id == member_id)
            .group_by(col(LedgerLine.state))
        )
    ).all()
    sums = {PointsState(state): int(total) for state, total in rows}
    return sum(sums.get(s, 0) for s in COUNTED), sums.get(PointsState.PENDING, 0)


async def public(session: AsyncSession, member: LoyaltyMember) -> MemberPublic:
    balance, pending = await points_of(session, member.id)
    tier = current_tier(member)
    return MemberPublic(
        member_number=member.member_number,
        guest_id=member.guest_id,
        tier=tier,
        discount_percent=DISCOUNT_PERCENT[tier] if tier else 0,
        status=member.status,
        enrolled_by=member.enrolled_by,
        enrolled_at=member.enrolled_at,
        tier_since=member.tier_since,
        last_stay_at=member.last_stay_at,
        lapsed_at=member.lapsed_at,
        points_balance=balance,
        points_pending=pending,
    )


# -- what the stays say -----------------------------------------------------------------------
async def qualifying_stay(session: AsyncSession, guest_id: str, settings: Settings) -> bool:
    """Has the guest a completed stay whose settled folio reached the enrolment minimum?"""
    rows = (
        await session.exec(
            select(GuestStay.amount_spent, GuestStay.currency).where(
                GuestStay.guest_id == guest_id,
                GuestStay.status == StayStatus.CHECKED_OUT,
                col(GuestStay.amount_spent).is_not(None),
            )
        )
    ).all()
    return any(
        money.whole_yuan(spent or 0, currency, settings.fx_to_cny) >= settings.loyalty_enrol_min_cny
        for spent, currency in rows
    )


async def window_totals(
    session: AsyncSession, guest_id: str, today: date, settings: Settings
) -> tuple[Decimal, int]:
    """Settled spend (yuan) and completed stays whose departure falls in the rolling window."""
    since = today - timedelta(days=settings.loyalty_window_days)
    rows = (
        await session.exec(
            select(GuestStay.amount_spent, GuestStay.currency).where(
                GuestStay.guest_id == guest_id,
                GuestStay.status == StayStatus.CHECKED_OUT,
                col(GuestStay.check_out) > since,
            )
        )
    ).all()
    spend = sum(
        (money.to_cny(spent or 0, currency, settings.fx_to_cny) for spent, currency in rows),
        Decimal(0),
    )
    return spend, len(rows)


def earned_tier(spend: Decimal, stays: int, settings: Settings) -> Tier:
    """The highest tier whose spend or stays threshold the window reaches."""
    earned = Tier.REGULAR
    for tier in TIER_ORDER[1:]:
        spend_at = settings.loyalty_tier_spend_cny.get(tier.value)
        stays_at = settings.loyalty_tier_stays.get(tier.value)
        if (spend_at is not None and spend >= spend_at) or (
            stays_at is not None and stays >= stays_at
        ):
            earned = tier
    return earned


def higher(a: Tier, b: Tier) -> Tier:
    return a if TIER_ORDER.index(a) >= TIER_ORDER.index(b) else b


# -- changes ----------------------------------------------------------------------------------
async def publish_tier(
    session: AsyncSession,
    member: LoyaltyMember,
    previous: Tier | None,
    reason: str,
    *,
    guest_id: str | None = None,
) -> None:
    """`LoyaltyTierChanged` for the member's guest (or `guest_id`: a profile the membership
    just left), with the profile's version bumped in this transaction; segments learn the tier
    too."""
    target = guest_id or member.guest_id
    guest = await session.get(Guest, target)
    if guest is None:
        raise NotFound("guest", target)
    tier = current_tier(member) if guest_id is None else None
    version = await versions.next_version(session, guest.id)
    contacts = (
        await contact_book.contacts_of(session, guest.id)
        if tier is not None and guest.status == GuestStatus.ACTIVE
        else []
    )
    add_event(
        session,
        LoyaltyTierChanged(
            guest_id=guest.id,
            member_number=member.member_number if tier is not None else None,
            tier=tier.value if tier is not None else None,
            previous_tier=previous.value if previous is not None else None,
            discount_percent=DISCOUNT_PERCENT[tier] if tier is not None else 0,
            # Only while a member: an ended membership's event names no address (an erased
            # guest's must not carry one into the outbox again).
            emails=contact_book.values(contacts, ContactKind.EMAIL),
            phones=contact_book.values(contacts, ContactKind.PHONE),
            reason=reason,
            at=utcnow(),
            aggregate_version=version,
        ),
    )
    await value.note_tier(session, guest.id, tier.value if tier is not None else None)
    log.info(
        "loyalty tier changed",
        extra={"guest_id": guest.id, "tier": tier.value if tier else None, "reason": reason},
    )


async def enrol(
    session: AsyncSession,
    guest_id: str,
    by: EnrolledBy,
    settings: Settings,
    *,
    waive_minimum: bool = False,
    now: datetime | None = None,
) -> tuple[LoyaltyMember, bool]:
    """Enrol the guest (or re-enrol a lapsed member) at Regular; (member, whether it changed).
    An active member is returned as is. Refers 200 points to the guest's referrer."""
    now = now or utcnow()
    guest = await session.get(Guest, guest_id)
    if guest is None or guest.status != GuestStatus.ACTIVE:
        raise NotFound("guest", guest_id)
    member = await member_of(session, guest_id, lock=True)
    if member is not None and member.status == MemberStatus.ACTIVE:
        return member, False
    if member is not None and member.status != MemberStatus.LAPSED:
        raise ProblemError(
            409, "membership_closed", f"The membership of guest {guest_id} is {member.status}."
        )
    if not waive_minimum and not await qualifying_stay(session, guest_id, settings):
        raise ProblemError(
            422,
            "not_eligible",
            f"Membership starts with one stay whose settled bill reached "
            f"{settings.loyalty_enrol_min_cny} CNY.",
        )
    if member is None:
        member = await _insert_member(session, guest_id, by, now)
    else:  # a lapsed member comes back with the same number, from Regular
        member.status = MemberStatus.ACTIVE
        member.tier = Tier.REGULAR
        member.enrolled_by = by
        member.enrolled_at = member.tier_since = member.updated_at = now
        member.lapsed_at = None
        session.add(member)
    member.last_stay_at = await last_stay(session, guest_id)
    await publish_tier(session, member, None, "enrolled")
    if guest.referrer_id is not None:
        await _reward_referrer(session, guest.referrer_id, guest_id, settings, now)
    return member, True


async def _insert_member(
    session: AsyncSession, guest_id: str, by: EnrolledBy, now: datetime
) -> LoyaltyMember:
    for _ in range(NUMBER_ATTEMPTS):
        member = LoyaltyMember(
            guest_id=guest_id,
            member_number=new_member_number(),
            enrolled_by=by,
            enrolled_at=now,
            tier_since=now,
        )
        try:
            async with session.begin_nested():  # a number already drawn: draw again
                session.add(member)
        except IntegrityError:
            if await member_of(session, guest_id) is not None:
                raise  # the guest was enrolled concurrently: the caller retries and finds it
            continue
        return member
    raise RuntimeError(f"{NUMBER_ATTEMPTS} member numbers in a row were taken")


async def _reward_referrer(
    session: AsyncSession, referrer_id: str, referred_id: str, settings: Settings, now: datetime
) -> None:
    """The manual's 200 points to the referrer, once per referred guest, if a member."""
    from guest_service.loyalty import ledger  # ledger needs members: imported late

    referrer_id = await _person_of(session, referrer_id)
    if referrer_id == referred_id:
        # The referrer's profile was merged into the referred guest's (or theirs into it):
        # one person, who does not refer themself.
        log.info("referrer is the guest: no referral points", extra={"guest_id": referred_id})
        return
    referrer = await member_of(session, referrer_id)
    if referrer is None or referrer.status != MemberStatus.ACTIVE:
        log.info("referrer is not a member: no referral points", extra={"guest_id": referrer_id})
        return
    await ledger.post(
        session,
        referrer,
        settings.loyalty_referral_points,
        ledger.Reason.REFERRAL,
        referred_id,
        settings,
        today=now.date(),
    )


async def _person_of(session: AsyncSession, guest_id: str) -> str:
    """The profile that now stands for `guest_id`: its survivor when it was merged (each merge
    once more), else itself."""
    seen = {guest_id}
    while True:
        guest = await session.get(Guest, guest_id)
        if guest is None or guest.status != GuestStatus.MERGED or guest.merged_into_id is None:
            return guest_id
        guest_id = guest.merged_into_id
        if guest_id in seen:  # never a cycle; bounded all the same
            return guest_id
        seen.add(guest_id)


async def last_stay(session: AsyncSession, guest_id: str) -> date | None:
    found = (
        await session.exec(
            select(func.max(GuestStay.check_out)).where(
                GuestStay.guest_id == guest_id, GuestStay.status == StayStatus.CHECKED_OUT
            )
        )
    ).first()
    return found


async def reevaluate(
    session: AsyncSession, member: LoyaltyMember, today: date, settings: Settings
) -> Tier | None:
    """Promote the member if the window earned a higher tier; the new tier, else None."""
    if member.status != MemberStatus.ACTIVE:
        return None
    spend, stays = await window_totals(session, member.guest_id, today, settings)
    earned = earned_tier(spend, stays, settings)
    previous = Tier(member.tier)
    if TIER_ORDER.index(earned) <= TIER_ORDER.index(previous):
        return None
    member.tier = earned
    member.tier_since = member.updated_at = utcnow()
    session.add(member)
    await publish_tier(session, member, previous, "promoted")
    return earned

"""Redeeming points for folio credit or a reward of the catalogue, never beyond the balance.

The member's row is locked (PostgreSQL `SELECT ... FOR UPDATE`; SQLite's single writer holds
the file) before the balance is read, so two redemptions at once run one after the other and
the second sees the first's line: one of them is refused rather than the balance overdrawn.
"""

import logging

from hotel_common.errors import ProblemError
from hotel_common.principal import Principal
from hotel_common.time import utcnow
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.config import Settings
from guest_service.loyalty import members
from guest_service.models.loyalty import (
    LedgerLine,
    LoyaltyMember,
    MemberStatus,
    PointsState,
    Reason,
    Redemption,
    RedemptionCreate,
    RedemptionKind,
    RedemptionPublic,
)

log = logging.getLogger(__name__)

CREDIT_CURRENCY = "CNY"


def price_of(body: RedemptionCreate, settings: Settings) -> tuple[int, int | None]:
    """(points, credit in minor units of CNY or None) of what is asked for; 422 if unpriced."""
    if body.kind == RedemptionKind.REWARD:
        assert body.reward is not None
        points = settings.loyalty_rewards.get(body.reward)
        if points is None:
            raise ProblemError(
                422,
                "unknown_reward",
                f"No reward {body.reward} in the catalogue.",
                errors=[{"field": "body.reward", "message": "not in the catalogue"}],
            )
        return points, None
    assert body.points is not None
    rate = settings.loyalty_points_per_credit_yuan
    if body.points % rate:
        raise ProblemError(
            422,
            "invalid_points",
            f"Folio credit is bought in steps of {rate} points (1 CNY).",
            errors=[{"field": "body.points", "message": f"a multiple of {rate}"}],
        )
    return body.points, body.points // rate * 100


async def redeem(
    session: AsyncSession,
    member_number: str,
    body: RedemptionCreate,
    principal: Principal,
    settings: Settings,
) -> RedemptionPublic:
    """Spend the member's points; 409 `insufficient_points` (nothing written) beyond the
    balance, 409 `not_a_member` for a membership that is not active."""
    points, credit = price_of(body, settings)
    member = await members.by_number(session, member_number, lock=True)
    return await redeem_locked(session, member, body, points, credit, principal)


async def redeem_locked(
    session: AsyncSession,
    member: LoyaltyMember,
    body: RedemptionCreate,
    points: int,
    credit: int | None,
    principal: Principal,
) -> RedemptionPublic:
    if member.status != MemberStatus.ACTIVE:
        raise ProblemError(
            409, "not_a_member", f"Membership {member.member_number} is {member.status}."
        )
    balance, _ = await members.points_of(session, member.id)
    if points > balance:
        raise ProblemError(
            409,
            "insufficient_points",
            f"The redemption needs {points} points; the balance is {balance}.",
            balance=balance,
            points=points,
        )
    now = utcnow()
    redemption = Redemption(
        member_id=member.id,
        kind=RedemptionKind(body.kind),
        reward=body.reward,
        points=points,
        credit_amount=credit,
        reservation_id=body.reservation_id,
        redeemed_by=principal.id,
        created_at=now,
    )
    session.add(redemption)
    session.add(
        LedgerLine(
            member_id=member.id,
            reason=Reason.REDEMPTION,
            reference=redemption.id,
            points=-points,
            state=PointsState.REDEEMED,
            note=body.reward or "folio_credit",
            created_at=now,
            posted_at=now,
        )
    )
    await session.flush()
    log.info("points redeemed", extra={"guest_id": member.guest_id, "points": points})
    return public(redemption, member, balance - points)


def public(redemption: Redemption, member: LoyaltyMember, balance: int) -> RedemptionPublic:
    return RedemptionPublic(
        id=redemption.id,
        member_number=member.member_number,
        kind=redemption.kind,
        reward=redemption.reward,
        points=redemption.points,
        credit_amount=redemption.credit_amount,
        credit_currency=CREDIT_CURRENCY if redemption.credit_amount is not None else None,
        reservation_id=redemption.reservation_id,
        created_at=redemption.created_at,
        points_balance=balance,
    )

"""The points ledger: every line has a reason, the balance is their sum.

A line is once per (reason, reference): an award retried, an event redelivered, posts nothing
more. A confirmed booking's points are held `pending` (from its total) until check-out posts
them from the settled amount; a cancellation reverses them. Posted points expire at the
yearly cut-off of the year after they were earned (`expires_on`).
"""

import logging
from datetime import date, datetime

from hotel_common.errors import ProblemError
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.config import Settings
from guest_service.loyalty import configured
from guest_service.models.loyalty import (
    LedgerLine,
    LoyaltyMember,
    MemberStatus,
    PointsState,
    Reason,
)

log = logging.getLogger(__name__)

__all__ = ["Reason", "award", "cutoff_on", "expiry_date", "hold", "post", "reverse", "settle"]


def cutoff_on(year: int, cutoff: str) -> date:
    """The cut-off ("MM-DD") in `year`; 29 February falls on the 28th in other years."""
    month, day = (int(part) for part in cutoff.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def expiry_date(earned_on: date, cutoff: str) -> date:
    """Points earned on `earned_on` are cleared at the cut-off after the next one."""
    next_cutoff = cutoff_on(earned_on.year, cutoff)
    if earned_on > next_cutoff:
        next_cutoff = cutoff_on(earned_on.year + 1, cutoff)
    return cutoff_on(next_cutoff.year + 1, cutoff)


async def line_of(session: AsyncSession, reason: Reason, reference: str) -> LedgerLine | None:
    query = select(LedgerLine).where(LedgerLine.reason == reason, LedgerLine.reference == reference)
    return (await session.exec(query)).first()


async def _insert(session: AsyncSession, line: LedgerLine) -> LedgerLine | None:
    """Insert the line unless its (reason, reference) is there (also when a twin raced it)."""
    if await line_of(session, line.reason, line.reference) is not None:
        return None
    return line if await try_insert(session, line) else None


async def post(
    session: AsyncSession,
    member: LoyaltyMember,
    points: int,
    reason: Reason,
    reference: str,
    settings: Settings | None = None,
    *,
    today: date | None = None,
    note: str | None = None,
) -> LedgerLine | None:
    """Earn `points` now, once per (reason, reference); the line, or None if already there."""
    if points <= 0:
        return None
    now = utcnow()
    cutoff = (settings or configured()).loyalty_expiry_cutoff
    return await _insert(
        session,
        LedgerLine(
            member_id=member.id,
            reason=reason,
            reference=reference,
            points=points,
            state=PointsState.POSTED,
            expires_on=expiry_date(today or now.date(), cutoff),
            note=note,
            created_at=now,
            posted_at=now,
        ),
    )


async def hold(
    session: AsyncSession, member: LoyaltyMember, reservation_id: str, points: int
) -> None:
    """A confirmed booking's points, pending until check-out; a change of the booking moves
    them while they are pending."""
    line = await line_of(session, Reason.STAY, reservation_id)
    if line is None:
        await _insert(
            session,
            LedgerLine(
                member_id=member.id,
                reason=Reason.STAY,
                reference=reservation_id,
                points=points,
                state=PointsState.PENDING,
            ),
        )
    elif line.state == PointsState.PENDING and line.points != points:
        line.points = points
        session.add(line)


async def settle(
    session: AsyncSession,
    member: LoyaltyMember,
    reservation_id: str,
    points: int,
    settings: Settings,
    *,
    today: date,
    now: datetime | None = None,
) -> LedgerLine | None:
    """Post the stay's points from its settled amount at check-out (once)."""
    now = now or utcnow()
    line = await line_of(session, Reason.STAY, reservation_id)
    if line is None:
        return await post(
            session, member, points, Reason.STAY, reservation_id, settings, today=today
        )
    if line.state == PointsState.POSTED:
        return None  # already settled: a redelivered check-out
    line.points, line.state, line.posted_at = points, PointsState.POSTED, now
    line.expires_on = expiry_date(today, settings.loyalty_expiry_cutoff)
    session.add(line)
    return line


async def reverse(session: AsyncSession, reservation_id: str) -> bool:
    """A cancelled booking's pending points count nothing; whether a line was reversed."""
    line = await line_of(session, Reason.STAY, reservation_id)
    if line is None or line.state != PointsState.PENDING:
        return False
    line.state = PointsState.REVERSED
    session.add(line)
    return True


async def award(
    session: AsyncSession, guest_id: str, points: int, reason: str, reference: str
) -> None:
    """Post `points` to the guest's account now, once per `reference` (a retry posts nothing
    more); e.g. a complaint's compensation. Called inside the caller's transaction.

    Raises ProblemError 409 `not_a_member` when the guest has no active membership (points
    need an account to live in; offer another remedy), 422 `invalid_points` for points < 1.
    """
    from guest_service.loyalty import members  # members posts referral points: imported late

    if points < 1:
        raise ProblemError(422, "invalid_points", "Points to award are a whole number above 0.")
    member = await members.member_of(session, guest_id, lock=True)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise ProblemError(409, "not_a_member", f"Guest {guest_id} is not a loyalty member.")
    line = await post(session, member, points, Reason(reason), reference)
    if line is not None:
        log.info("points awarded", extra={"guest_id": guest_id, "points": points, "reason": reason})

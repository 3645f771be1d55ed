"""The loyalty programme's daily steps: memberships lapse after two years without a stay,
points expire at the yearly cut-off (announced some days before), members get their birthday
benefit once a year. Each step takes `today` so tests run it directly; the worker runs them
all, each in its own transaction, every `loyalty_worker_seconds`. Every step is idempotent per
member and day (marks on the member, references on the ledger), so a second run does nothing.
"""

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hotel_common.contracts.guests import BirthdayBenefitGranted, PointsExpiring
from hotel_common.events.outbox import add_event
from hotel_common.service import Runtime
from hotel_common.time import utcnow
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book
from guest_service.config import Settings
from guest_service.loyalty import ledger, members
from guest_service.models import ContactKind, Guest, GuestStatus
from guest_service.models.loyalty import (
    COUNTED,
    EnrolledBy,
    LedgerLine,
    LoyaltyMember,
    MemberStatus,
    PointsState,
    Reason,
    Tier,
)

log = logging.getLogger(__name__)

BATCH = 500


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


async def lapse(session: AsyncSession, today: date, settings: Settings) -> int:
    """Active members without a completed stay (or, never having stayed since, enrolled) in the
    last `loyalty_lapse_years` years lapse: tier gone, `LoyaltyTierChanged` with tier None.

    The membership counts from the later of the last stay and the enrolment: a member enrolled
    on request (staff, the guest; a lapsed member rejoining) holds a stay from before, which
    must not end the new membership at once. A stay's enrolment counts from that stay (its
    check-out may be recorded days after the departure)."""
    limit = years_before(today, settings.loyalty_lapse_years)
    enrolled_before = col(LoyaltyMember.enrolled_at) < _midnight(limit + timedelta(days=1))
    query = (
        select(LoyaltyMember)
        .where(
            LoyaltyMember.status == MemberStatus.ACTIVE,
            or_(
                col(LoyaltyMember.last_stay_at).is_(None),
                col(LoyaltyMember.last_stay_at) <= limit,
            ),
            or_(
                enrolled_before,
                and_(
                    col(LoyaltyMember.enrolled_by) == EnrolledBy.STAY,
                    col(LoyaltyMember.last_stay_at).is_not(None),
                ),
            ),
        )
        .order_by(col(LoyaltyMember.id))
        .limit(BATCH)
    )
    done = 0
    for member in await _locked_each(session, query):
        if member.status != MemberStatus.ACTIVE or (
            member.last_stay_at is not None and member.last_stay_at > limit
        ):
            continue  # a stay came in meanwhile: no longer lapsing
        previous = Tier(member.tier)
        member.status = MemberStatus.LAPSED
        member.lapsed_at = member.updated_at = utcnow()
        session.add(member)
        await members.publish_tier(session, member, previous, "lapsed")
        done += 1
    return done


def _midnight(day: date) -> datetime:
    """The UTC instant the day starts."""
    return datetime.combine(day, time(), UTC)


def last_cutoff(today: date, cutoff: str) -> date:
    this_year = ledger.cutoff_on(today.year, cutoff)
    return this_year if this_year <= today else ledger.cutoff_on(today.year - 1, cutoff)


def next_cutoff(today: date, cutoff: str) -> date:
    this_year = ledger.cutoff_on(today.year, cutoff)
    return this_year if this_year >= today else ledger.cutoff_on(today.year + 1, cutoff)


async def expiring_at(session: AsyncSession, member_id: str, cutoff: date) -> int:
    """Points of the balance that the cut-off clears: redemptions spend the oldest points
    first, so what is left of the balance beyond the points kept longer expires."""
    rows = (
        await session.exec(
            select(LedgerLine.points, LedgerLine.state, col(LedgerLine.expires_on)).where(
                LedgerLine.member_id == member_id, col(LedgerLine.state).in_(COUNTED)
            )
        )
    ).all()
    balance = sum(points for points, _, _ in rows)
    kept = sum(
        points
        for points, state, expires_on in rows
        if state == PointsState.POSTED
        and points > 0
        and expires_on is not None
        and expires_on > cutoff
    )
    return max(0, balance - kept)


def _holders_of_points_expiring_by(cutoff: date) -> Any:
    """The ids of members holding posted points that expire on or before `cutoff` (a
    subquery)."""
    return (
        select(LedgerLine.member_id)
        .where(
            LedgerLine.state == PointsState.POSTED,
            col(LedgerLine.expires_on) <= cutoff,
            col(LedgerLine.points) > 0,
        )
        .distinct()
    )


async def _locked_each(session: AsyncSession, query: Any) -> list[LoyaltyMember]:
    """The members `query` selects (unlocked), each then locked profile first and membership
    second (members.member_of), the order merges, erasures and check-outs take: a job never
    holds a batch of memberships while waiting for a profile. Read again under the lock: the
    caller checks its condition still holds."""
    found = [(m.id, m.guest_id) for m in (await session.exec(query)).all()]
    locked = []
    for member_id, guest_id in found:
        member = await members.member_of(session, guest_id, lock=True)
        if member is not None and member.id == member_id:
            locked.append(member)
    return locked


async def expire(session: AsyncSession, today: date, settings: Settings) -> int:
    """At the latest cut-off on or before `today`, clear every member's points that expire by
    then, once (the line's reference names the member and the cut-off)."""
    cutoff = last_cutoff(today, settings.loyalty_expiry_cutoff)
    holders = _holders_of_points_expiring_by(cutoff)
    cleared = select(LedgerLine.member_id).where(
        LedgerLine.reason == Reason.EXPIRY, col(LedgerLine.reference).like(f"%:{cutoff}")
    )
    query = (
        select(LoyaltyMember)
        .where(col(LoyaltyMember.id).in_(holders), col(LoyaltyMember.id).not_in(cleared))
        .order_by(col(LoyaltyMember.id))
        .limit(BATCH)
    )
    done = 0
    now = utcnow()
    for member in await _locked_each(session, query):
        points = await expiring_at(session, member.id, cutoff)
        # A zero line too: it marks the member's cut-off as done.
        session.add(
            LedgerLine(
                member_id=member.id,
                reason=Reason.EXPIRY,
                reference=f"{member.id}:{cutoff}",
                points=-points,
                state=PointsState.EXPIRED,
                created_at=now,
                posted_at=now,
            )
        )
        done += 1 if points else 0
    await session.flush()
    return done


async def _addressee(
    session: AsyncSession, member: LoyaltyMember, guest: Guest | None = None
) -> dict[str, Any]:
    """Whom a member's notice (PointsExpiring, BirthdayBenefitGranted) goes to: the guest, their
    primary email and phone, and their language (English when none)."""
    if guest is None:
        guest = await session.get(Guest, member.guest_id)
        assert guest is not None
    contacts = await contact_book.contacts_of(session, guest.id)
    return {
        "guest_id": guest.id,
        "member_number": member.member_number,
        "name": guest.name,
        "email": contact_book.primary(contacts, ContactKind.EMAIL),
        "phone": contact_book.primary(contacts, ContactKind.PHONE),
        "language": guest.language or "en",
    }


async def remind(session: AsyncSession, today: date, settings: Settings) -> int:
    """`PointsExpiring` to each active member with points to lose at the coming cut-off, once,
    from `loyalty_expiry_reminder_days` before it."""
    cutoff = next_cutoff(today, settings.loyalty_expiry_cutoff)
    if (cutoff - today).days > settings.loyalty_expiry_reminder_days:
        return 0
    holders = _holders_of_points_expiring_by(cutoff)
    query = (
        select(LoyaltyMember)
        .where(
            LoyaltyMember.status == MemberStatus.ACTIVE,
            col(LoyaltyMember.id).in_(holders),
            or_(
                col(LoyaltyMember.reminded_for).is_(None), col(LoyaltyMember.reminded_for) < cutoff
            ),
        )
        .order_by(col(LoyaltyMember.id))
        .limit(BATCH)
    )
    sent = 0
    for member in await _locked_each(session, query):
        if member.reminded_for is not None and member.reminded_for >= cutoff:
            continue  # reminded meanwhile (another replica's run)
        member.reminded_for = cutoff
        session.add(member)
        points = await expiring_at(session, member.id, cutoff)
        if points <= 0:
            continue
        add_event(
            session,
            PointsExpiring(
                **await _addressee(session, member),
                points=points,
                expires_on=cutoff,
            ),
        )
        sent += 1
    return sent


def birthday_today(birth_date: date, today: date) -> bool:
    if (birth_date.month, birth_date.day) == (today.month, today.day):
        return True
    # Born on 29 February: celebrated on the 28th in other years.
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (
        (birth_date.month, birth_date.day) == (2, 29)
        and not leap
        and (today.month, today.day) == (2, 28)
    )


async def birthdays(session: AsyncSession, today: date, settings: Settings) -> int:
    """`BirthdayBenefitGranted` for each active member whose birthday is today, once a year.
    Birth dates are sealed, so they are compared here, not in SQL."""
    query = (
        select(LoyaltyMember, Guest)
        .join(Guest, col(Guest.id) == LoyaltyMember.guest_id)
        .where(
            LoyaltyMember.status == MemberStatus.ACTIVE,
            Guest.status == GuestStatus.ACTIVE,
            col(Guest.birth_date).is_not(None),
            or_(
                col(LoyaltyMember.birthday_year).is_(None),
                col(LoyaltyMember.birthday_year) < today.year,
            ),
        )
        .order_by(col(LoyaltyMember.id))
    )
    granted = 0
    for member, guest in (await session.exec(query)).all():
        if guest.birth_date is None or not birthday_today(guest.birth_date, today):
            continue
        member.birthday_year = today.year
        session.add(member)
        add_event(
            session,
            BirthdayBenefitGranted(
                **await _addressee(session, member, guest),
                benefit=settings.loyalty_birthday_benefit,
                valid_until=today + timedelta(days=settings.loyalty_birthday_valid_days),
            ),
        )
        granted += 1
    return granted


STEPS = (lapse, expire, remind, birthdays)


async def run_day(runtime: Runtime[Settings], today: date) -> dict[str, int]:
    """Every step for `today`, each in its own transaction (one failing leaves the others)."""
    done = {}
    for step in STEPS:
        try:
            async with runtime.sessions() as session, session.begin():
                done[step.__name__] = await step(session, today, runtime.settings)
        except Exception:
            log.exception("loyalty step failed", extra={"step": step.__name__})
    return done


async def loyalty_worker(runtime: Runtime[Settings]) -> None:
    """SPEC.workers: the daily steps, every `loyalty_worker_seconds` (each is idempotent)."""
    while True:
        await run_day(runtime, utcnow().date())
        await asyncio.sleep(runtime.settings.loyalty_worker_seconds)

"""The "loyalty" part of a guest's lifecycle (lifecycle.py): export, erase, merge, unmerge.

Erase: the membership ends (status erased) and is announced with no tier, so reservation-service
drops the member rate; the member number and the ledger stay (amounts, no person: references
are reservation and redemption ids). Merge: two members become one, the survivor holding the
higher tier and every line and redemption of both (the memo lists what moved and what the
survivor was, so undo restores both accounts exactly); a membership of the absorbed profile
alone moves to the survivor.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle
from guest_service.loyalty import members
from guest_service.models.loyalty import (
    LedgerLine,
    LedgerLinePublic,
    LoyaltyMember,
    MemberStatus,
    Redemption,
    Tier,
)


async def _ids(session: AsyncSession, table: Any, member_id: str) -> list[str]:
    rows = await session.exec(select(table.id).where(table.member_id == member_id))
    return [str(i) for i in rows.all()]


async def _move(session: AsyncSession, table: Any, ids: list[str], to_member: str) -> None:
    if ids:
        await session.exec(update(table).where(col(table.id).in_(ids)).values(member_id=to_member))


class LoyaltyPart:
    name = "loyalty"

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        member = await members.member_of(session, guest_id)
        if member is None:
            return None
        lines = (
            await session.exec(
                select(LedgerLine)
                .where(LedgerLine.member_id == member.id)
                .order_by(col(LedgerLine.created_at), col(LedgerLine.id))
            )
        ).all()
        redemptions = (
            await session.exec(select(Redemption).where(Redemption.member_id == member.id))
        ).all()
        return {
            "member": (await members.public(session, member)).model_dump(mode="json"),
            "ledger": [
                LedgerLinePublic.model_validate(line, from_attributes=True).model_dump(mode="json")
                for line in lines
            ],
            "redemptions": [r.model_dump(mode="json") for r in redemptions],
        }

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        member = await members.member_of(session, guest_id, lock=True)
        if member is None or member.status == MemberStatus.ERASED:
            return
        previous = members.current_tier(member)
        member.status = MemberStatus.ERASED
        member.birthday_year = None
        member.reminded_for = None
        session.add(member)
        if previous is not None:
            await members.publish_tier(session, member, previous, "erased")

    async def contacts_changed(self, session: AsyncSession, guest_id: str) -> None:
        """A member's addresses are how reservation-service finds the member rate: the tier
        goes out again with the addresses the profile holds now (an address removed no longer
        prices as this member; one added does). No notice: the tier did not change.

        The membership is read unlocked: the profile's row is locked already (its version
        moved), and a lapse or enrolment racing this holds the membership and waits for the
        profile, so it publishes after this, with the addresses as they are now."""
        member = await members.member_of(session, guest_id)
        tier = members.current_tier(member) if member is not None else None
        if member is not None and tier is not None:
            await members.publish_tier(session, member, tier, "contacts_changed")

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        survivor = await members.member_of(session, survivor_id, lock=True)
        absorbed = await members.member_of(session, absorbed_id, lock=True)
        if absorbed is None:
            return None
        absorbed_tier = members.current_tier(absorbed)
        if survivor is None:  # the membership itself moves to the survivor
            absorbed.guest_id = survivor_id
            session.add(absorbed)
            await session.flush()
            if absorbed_tier is not None:
                await members.publish_tier(session, absorbed, None, "merged")
                await members.publish_tier(
                    session, absorbed, absorbed_tier, "merged", guest_id=absorbed_id
                )
            return {"moved_member": absorbed.id}
        lines = await _ids(session, LedgerLine, absorbed.id)
        spent = await _ids(session, Redemption, absorbed.id)
        memo = {
            "survivor": {
                "tier": str(survivor.tier),
                "status": str(survivor.status),
                "tier_since": survivor.tier_since.isoformat(),
                "last_stay_at": survivor.last_stay_at.isoformat()
                if survivor.last_stay_at
                else None,
            },
            "absorbed_status": str(absorbed.status),
            "lines": lines,
            "redemptions": spent,
        }
        await _move(session, LedgerLine, lines, survivor.id)
        await _move(session, Redemption, spent, survivor.id)
        before = members.current_tier(survivor)
        if absorbed_tier is not None:
            best = absorbed_tier if before is None else members.higher(before, absorbed_tier)
            survivor.tier = best
            survivor.status = MemberStatus.ACTIVE
        if absorbed.last_stay_at and (
            survivor.last_stay_at is None or survivor.last_stay_at < absorbed.last_stay_at
        ):
            survivor.last_stay_at = absorbed.last_stay_at
        absorbed.status = MemberStatus.MERGED
        session.add_all([survivor, absorbed])
        await session.flush()
        if members.current_tier(survivor) != before:
            await members.publish_tier(session, survivor, before, "merged")
        if absorbed_tier is not None:
            await members.publish_tier(
                session, absorbed, absorbed_tier, "merged", guest_id=absorbed_id
            )
        return memo

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        if not memo:
            return
        if "moved_member" in memo:
            member = await session.get(LoyaltyMember, memo["moved_member"], with_for_update=True)
            if member is None:
                return
            member.guest_id = absorbed_id
            session.add(member)
            await session.flush()
            tier = members.current_tier(member)
            if tier is not None:
                await members.publish_tier(session, member, None, "merge_undone")
                await members.publish_tier(
                    session, member, tier, "merge_undone", guest_id=survivor_id
                )
            return
        survivor = await members.member_of(session, survivor_id, lock=True)
        absorbed = await members.member_of(session, absorbed_id, lock=True)
        if survivor is None or absorbed is None:
            return
        await _move(session, LedgerLine, memo["lines"], absorbed.id)
        await _move(session, Redemption, memo["redemptions"], absorbed.id)
        before = members.current_tier(survivor)
        was = memo["survivor"]
        survivor.tier = Tier(was["tier"])
        survivor.status = MemberStatus(was["status"])
        survivor.tier_since = datetime.fromisoformat(was["tier_since"])
        survivor.last_stay_at = (
            date.fromisoformat(was["last_stay_at"]) if was["last_stay_at"] else None
        )
        absorbed.status = MemberStatus(memo["absorbed_status"])
        session.add_all([survivor, absorbed])
        await session.flush()
        if members.current_tier(survivor) != before:
            await members.publish_tier(session, survivor, before, "merge_undone")
        if members.current_tier(absorbed) is not None:
            await members.publish_tier(session, absorbed, None, "merge_undone")


PART = lifecycle.register(LoyaltyPart())

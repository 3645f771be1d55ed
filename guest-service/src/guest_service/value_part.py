"""The "value" part of a guest's lifecycle (lifecycle.py): the history this part adds to the
stays (rides, feedback), the value row and the segment memberships.

Merge and undo do not depend on the profile's status or on when the stays move: rows move by
memo, and both profiles' values are recomputed for whatever status they end with (the periodic
refresh settles anything a later part changes).
"""

import typing
from typing import Any

from hotel_common.time import utcnow
from sqlalchemy import Table, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle, segments, value
from guest_service.models import GuestStay
from guest_service.models.history import BookingChannel, GuestFeedback, GuestTransfer
from guest_service.models.segments import GuestValue, GuestValuePublic, Segment, SegmentMember

_transfers = typing.cast(Table, GuestTransfer.__table__)  # type: ignore[attr-defined]
_feedback = typing.cast(Table, GuestFeedback.__table__)  # type: ignore[attr-defined]
_values = typing.cast(Table, GuestValue.__table__)  # type: ignore[attr-defined]

TIERS = ("regular", "silver", "gold", "diamond")


def _higher(a: str | None, b: str | None) -> str | None:
    ranked = [t for t in (a, b) if t in TIERS]
    return max(ranked, key=TIERS.index) if ranked else None


async def _move(session: AsyncSession, table: Table, key: Any, ids: list[str], to: str) -> None:
    if ids:
        await session.exec(update(table).where(key.in_(ids)).values(guest_id=to))


class ValuePart:
    name = "value"

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        found = await session.get(GuestValue, guest_id)
        names = await session.exec(
            select(col(Segment.name))
            .join(SegmentMember, col(SegmentMember.segment_id) == Segment.id)
            .where(col(SegmentMember.guest_id) == guest_id)
            .order_by(col(Segment.name))
        )
        rides = await session.exec(
            select(GuestTransfer).where(
                (col(GuestTransfer.guest_id) == guest_id)
                | col(GuestTransfer.reservation_id).in_(
                    select(col(GuestStay.reservation_id)).where(col(GuestStay.guest_id) == guest_id)
                )
            )
        )
        channels = await session.exec(
            select(BookingChannel).where(
                col(BookingChannel.reservation_id).in_(
                    select(col(GuestStay.reservation_id)).where(col(GuestStay.guest_id) == guest_id)
                )
            )
        )
        feedback = await session.exec(
            select(GuestFeedback).where(col(GuestFeedback.guest_id) == guest_id)
        )
        return {
            "value": None
            if found is None
            else GuestValuePublic.model_validate(found).model_dump(mode="json")
            | {"city": found.city, "birth_year": found.birth_year},
            "segments": list(names.all()),
            "transfers": [r.model_dump(mode="json") for r in rides.all()],
            "booking_channels": [c.model_dump(mode="json") for c in channels.all()],
            "feedback": [f.model_dump(mode="json") for f in feedback.all()],
        }

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        """Derived data goes (value row with city and birth year, memberships); rides and
        feedback keep their counts and amounts, which name nobody."""
        await segments.forget(session, [guest_id])
        await session.exec(delete(_values).where(_values.c.guest_id == guest_id))

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        rides = list(
            (
                await session.exec(
                    select(_transfers.c.transfer_id).where(_transfers.c.guest_id == absorbed_id)
                )
            ).all()
        )
        notes = list(
            (
                await session.exec(
                    select(_feedback.c.id).where(_feedback.c.guest_id == absorbed_id)
                )
            ).all()
        )
        await _move(session, _transfers, _transfers.c.transfer_id, rides, survivor_id)
        await _move(session, _feedback, _feedback.c.id, notes, survivor_id)
        kept = await session.get(GuestValue, survivor_id)
        gone = await session.get(GuestValue, absorbed_id)
        memo = {
            "transfers": rides,
            "feedback": notes,
            "survivor_tier": kept.tier if kept else None,
            "absorbed": None
            if gone is None
            else {"tier": gone.tier, "city": gone.city, "birth_year": gone.birth_year},
        }
        # Until loyalty tells the merged tier (value.note_tier), the higher of the two.
        tier = _higher(kept.tier if kept else None, gone.tier if gone else None)
        await self.erase(session, absorbed_id)
        await value.refresh_guest(session, survivor_id, as_active=True)
        if tier is not None:
            await value.note_tier(session, survivor_id, tier)
        return memo

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        await _move(session, _transfers, _transfers.c.transfer_id, memo["transfers"], absorbed_id)
        await _move(session, _feedback, _feedback.c.id, memo["feedback"], absorbed_id)
        await value.refresh_guest(session, survivor_id, as_active=True)
        await value.note_tier(session, survivor_id, memo["survivor_tier"])
        await value.refresh_guest(session, absorbed_id, as_active=True)
        tier = (memo["absorbed"] or {}).get("tier")
        if tier is not None:  # the absorbed profile's own tier again (its segments follow)
            await session.exec(
                update(_values).where(_values.c.guest_id == absorbed_id).values(tier=tier)
            )
            await segments.refresh_guest(session, absorbed_id, utcnow().date(), any_status=True)


PART = lifecycle.register(ValuePart())

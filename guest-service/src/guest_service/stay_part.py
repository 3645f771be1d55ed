"""The "stays" part of the guest's lifecycle (lifecycle.py): the bookings linked to a profile.

A stay holds no personal data of its own (reservation id, confirmation number, property, dates,
amounts), so erasing the guest keeps it whole: the amounts and counts stay, and the reservation
ids are what tells the other services which copies to purge. A merge moves the absorbed
profile's stays to the survivor; the memo names them, so an undo moves exactly those back
(stays booked on the survivor since stay there).
"""

from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle
from guest_service.models import GuestStay, GuestStayPublic
from guest_service.profiles import stays_of

_stays = cast(Table, GuestStay.__table__)  # type: ignore[attr-defined]


class StayPart:
    name = "stays"

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        stays = await stays_of(session, guest_id)
        return [GuestStayPublic.model_validate(s).model_dump(mode="json") for s in stays]

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        """Nothing to remove: a stay names no person (see the module's docstring)."""

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        conn = await session.connection()
        query = select(_stays.c.id).where(_stays.c.guest_id == absorbed_id).order_by(_stays.c.id)
        moved = list((await conn.execute(query)).scalars())
        if moved:
            await conn.execute(
                update(_stays).where(_stays.c.id.in_(moved)).values(guest_id=survivor_id)
            )
        return {"stay_ids": moved}

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        moved = list((memo or {}).get("stay_ids", []))
        if not moved:
            return
        conn = await session.connection()
        await conn.execute(
            update(_stays)
            .where(_stays.c.id.in_(moved), _stays.c.guest_id == survivor_id)
            .values(guest_id=absorbed_id)
        )


PART = lifecycle.register(StayPart())

"""The "privacy" part of the guest's lifecycle (lifecycle.py): consents and contact
preferences when a guest is exported, erased, merged or unmerged.

- export: the preferences and the whole consent history;
- erase: both go (the person is gone; what they agreed to no longer matters), and so do the
  records of the guest's earlier exports (the erasure's own record stays: ids only);
- merge: the absorbed profile's consents move to the survivor, so the history of both is kept
  and the latest word per channel and purpose wins across them; the survivor keeps its own
  preferences, or takes the absorbed profile's if it had none. The survivor's new snapshot is
  published (its contacts now include the absorbed profile's);
- unmerge: the moved rows go back, and both profiles' snapshots are published.
"""

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import lifecycle, privacy
from guest_service.models import (
    ConsentPublic,
    GuestConsent,
    GuestContactPreferences,
    GuestRightsRequest,
)
from guest_service.profiles import get_guest  # no lock: merging holds both profiles' already


class PrivacyPart:
    name = "privacy"

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        stored = await privacy.stored_preferences(session, guest_id)
        return {
            "contact_preferences": None
            if stored is None
            else {
                "channels": stored.channels,
                "language": stored.language,
                "quiet_hours": None
                if stored.quiet_start is None
                else {
                    "start": stored.quiet_start,
                    "end": stored.quiet_end,
                    "timezone": stored.quiet_timezone,
                },
                "updated_at": stored.updated_at.isoformat(),
            },
            "consents": [
                ConsentPublic.model_validate(c).model_dump(mode="json")
                for c in await privacy.consents_of(session, guest_id)
            ],
        }

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        for table in (GuestConsent, GuestContactPreferences):
            await session.exec(delete(table).where(col(table.guest_id) == guest_id))
        await session.exec(
            delete(GuestRightsRequest).where(
                col(GuestRightsRequest.guest_id) == guest_id,
                col(GuestRightsRequest.kind) == "export",
            )
        )

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        moved = list(
            (
                await session.exec(
                    select(GuestConsent.id).where(GuestConsent.guest_id == absorbed_id)
                )
            ).all()
        )
        if moved:
            await session.exec(
                update(GuestConsent)
                .where(col(GuestConsent.id).in_(moved))
                .values(guest_id=survivor_id)
            )
        preferences_moved = False
        if await privacy.stored_preferences(session, survivor_id) is None:
            theirs = await privacy.stored_preferences(session, absorbed_id)
            if theirs is not None:
                await session.exec(
                    update(GuestContactPreferences)
                    .where(col(GuestContactPreferences.guest_id) == absorbed_id)
                    .values(guest_id=survivor_id)
                )
                preferences_moved = True
        await privacy.announce(session, await get_guest(session, survivor_id))
        return {"consent_ids": moved, "preferences_moved": preferences_moved}

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        memo = memo or {}
        if memo.get("consent_ids"):
            await session.exec(
                update(GuestConsent)
                .where(
                    col(GuestConsent.id).in_(memo["consent_ids"]),
                    col(GuestConsent.guest_id) == survivor_id,
                )
                .values(guest_id=absorbed_id)
            )
        if memo.get("preferences_moved"):
            await session.exec(
                update(GuestContactPreferences)
                .where(col(GuestContactPreferences.guest_id) == survivor_id)
                .values(guest_id=absorbed_id)
            )
        for guest_id in (survivor_id, absorbed_id):
            await privacy.announce(session, await get_guest(session, guest_id))

    async def contacts_changed(self, session: AsyncSession, guest_id: str) -> None:
        """The snapshot holds every email and phone: a new one goes out."""
        await privacy.announce(session, await get_guest(session, guest_id))


PART = lifecycle.register(PrivacyPart())

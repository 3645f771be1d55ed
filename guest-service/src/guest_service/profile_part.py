"""The profile's share of the guest's lifecycle (lifecycle.py): its fields and contacts.

- export: every field of the profile (the ID document in full: it is the guest's own) and every
  contact.
- erase: the row stays (stays, points and cases refer to it) but names nobody: "Erased guest",
  every personal field and keyed hash NULL, tags, preferences and notes cleared, status
  `erased`; the contacts are deleted.
- merge: the absorbed profile's contacts move to the survivor (not primary, unless the survivor
  had none of that kind; one the survivor already holds stays behind), and the survivor's blank
  fields are filled from the absorbed profile. The memo names only contact ids and field names:
  no personal data goes into the merge record, which is not sealed.
- unmerge: the contacts move back as they were; a filled field is blanked again unless it was
  changed since (it no longer equals the absorbed profile's value, which a merge leaves as it
  was).
"""

from datetime import date
from typing import Any

from hotel_common.erasure import ERASED_NAME
from hotel_common.time import utcnow
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, lifecycle, profiles
from guest_service.models import ContactKind, Guest, GuestContact, GuestStatus

# Fields a merge fills on the survivor when blank there; the document travels whole.
FILLED = (
    "native_name",
    "latin_name",
    "gender",
    "birth_date",
    "nationality",
    "language",
    "address",
    "company",
    "notes",
    "referrer_id",
)
DOCUMENT = ("document_type", "document_number", "document_expiry")
PERSONAL = (
    "native_name",
    "latin_name",
    "gender",
    "birth_date",
    "nationality",
    "language",
    "address",
    "company",
    *DOCUMENT,
    "document_hash",
    "identity_hash",
    "notes",
    "referrer_id",
)


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)  # enums as their value


async def _guest(session: AsyncSession, guest_id: str) -> Guest:
    return await profiles.get_guest(session, guest_id)


class ProfilePart:
    name = "profile"

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        guest = await _guest(session, guest_id)
        fields = {
            name: _json(getattr(guest, name))
            for name in Guest.model_fields
            if name not in ("document_hash", "identity_hash")
        }
        contacts = [
            {
                "kind": _json(c.kind),
                "value": c.value,
                "is_primary": c.is_primary,
                "source": c.source,
                "created_at": c.created_at.isoformat(),
            }
            for c in await contact_book.contacts_of(session, guest_id)
        ]
        return {"fields": fields, "contacts": contacts}

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        guest = await _guest(session, guest_id)
        await session.exec(delete(GuestContact).where(col(GuestContact.guest_id) == guest_id))
        for name in PERSONAL:
            setattr(guest, name, None)
        now = utcnow()
        guest.name = ERASED_NAME
        guest.vip_level = 0
        guest.tags = []
        guest.preferences = {}
        guest.status = GuestStatus.ERASED
        guest.erased_at = now
        guest.updated_at = now
        session.add(guest)
        await session.flush()

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        survivor = await _guest(session, survivor_id)
        absorbed = await _guest(session, absorbed_id)
        kept = await contact_book.contacts_of(session, survivor_id)
        held = {(c.kind, c.value_hash) for c in kept}
        kinds = {c.kind for c in kept}
        moved = []
        for contact in await contact_book.contacts_of(session, absorbed_id):
            if (contact.kind, contact.value_hash) in held:
                continue  # the survivor has it: it stays on the absorbed profile
            moved.append(
                {"id": contact.id, "is_primary": contact.is_primary, "source": contact.source}
            )
            contact.guest_id = survivor_id
            contact.is_primary = contact.kind not in kinds and contact.is_primary
            contact.source = "merge"
            session.add(contact)
        filled = [
            name
            for name in FILLED
            if getattr(survivor, name) is None
            and getattr(absorbed, name) is not None
            # The absorbed profile's referrer being the survivor: one person, not a referral.
            and not (name == "referrer_id" and absorbed.referrer_id == survivor_id)
        ]
        if survivor.document_number is None and absorbed.document_number is not None:
            filled += DOCUMENT
        for name in filled:
            setattr(survivor, name, getattr(absorbed, name))
        tags = [t for t in absorbed.tags if t not in survivor.tags]
        preferences = [k for k in absorbed.preferences if k not in survivor.preferences]
        survivor.tags = [*survivor.tags, *tags]
        survivor.preferences = survivor.preferences | {
            k: absorbed.preferences[k] for k in preferences
        }
        vip_level = None  # the survivor's before, when the absorbed one's was higher
        if survivor.vip_level < absorbed.vip_level:
            vip_level, survivor.vip_level = survivor.vip_level, absorbed.vip_level
        profiles.refresh_hashes(survivor)
        survivor.updated_at = utcnow()
        session.add(survivor)
        await session.flush()
        return {
            "contacts": moved,
            "filled": filled,
            "tags": tags,
            "preferences": preferences,
            "vip_level": vip_level,
        }

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        survivor = await _guest(session, survivor_id)
        absorbed = await _guest(session, absorbed_id)
        for item in memo.get("contacts", []):
            contact = await session.get(GuestContact, item["id"])
            if contact is None or contact.guest_id != survivor_id:
                continue  # removed or moved since: nothing to bring back
            contact.guest_id = absorbed_id
            contact.is_primary = item["is_primary"]
            contact.source = item["source"]
            session.add(contact)
        await session.flush()
        for kind in ContactKind:
            await profiles.promote_oldest(session, survivor_id, kind)
        for name in memo.get("filled", []):
            if getattr(survivor, name) == getattr(absorbed, name):  # unchanged since the merge
                setattr(survivor, name, None)
        if memo.get("vip_level") is not None and survivor.vip_level == absorbed.vip_level:
            survivor.vip_level = memo["vip_level"]
        survivor.tags = [t for t in survivor.tags if t not in memo.get("tags", [])]
        gone = set(memo.get("preferences", []))
        survivor.preferences = {k: v for k, v in survivor.preferences.items() if k not in gone}
        profiles.refresh_hashes(survivor)
        survivor.updated_at = utcnow()
        session.add(survivor)
        await session.flush()


PART = lifecycle.register(ProfilePart())

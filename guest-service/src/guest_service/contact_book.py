"""A profile's emails and phones: stored sealed, found by keyed hash (crypto.py).

The one place that knows how a contact is stored: profiles, matching, merging, export and
erasure all go through here. Values given here are already normalised (hotel_common.contacts).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from hotel_common.time import utcnow
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.crypto import lookup_hash
from guest_service.models import ContactKind, Guest, GuestContact, GuestStatus, _new_id


def hash_of(kind: ContactKind, value: str) -> str:
    return lookup_hash(kind.value, value)


def new_contact(
    guest_id: str, kind: ContactKind, value: str, source: str, *, primary: bool = False
) -> GuestContact:
    """A contact row to add; an email carries its hash as `unique_key` (one profile each)."""
    digest = hash_of(kind, value)
    return GuestContact(
        guest_id=guest_id,
        kind=kind,
        value=value,
        value_hash=digest,
        unique_key=digest if kind is ContactKind.EMAIL else None,
        is_primary=primary,
        source=source,
    )


def contact_row(
    guest_id: str, kind: ContactKind, value: str, source: str, *, primary: bool = False
) -> dict[str, object]:
    """The same contact as `new_contact`, as a row for a Core insert (matching, bulk loads):
    building the SQLModel object validates and instruments it, which cost more than the insert
    (0.4 ms a contact, bench/guest_matching.py). The value is sealed by the column type."""
    digest = hash_of(kind, value)
    return {
        "id": _new_id(),
        "guest_id": guest_id,
        "kind": kind.value,
        "value": value,
        "value_hash": digest,
        "unique_key": digest if kind is ContactKind.EMAIL else None,
        "is_primary": primary,
        "source": source,
        "created_at": utcnow(),
    }


async def holders(session: AsyncSession, kind: ContactKind, value: str) -> list[str]:
    """Ids of the active profiles holding this contact (an email: at most one)."""
    query = (
        select(GuestContact.guest_id)
        .join(Guest, col(Guest.id) == GuestContact.guest_id)
        .where(GuestContact.kind == kind, GuestContact.value_hash == hash_of(kind, value))
        .where(Guest.status == GuestStatus.ACTIVE)
        .order_by(col(Guest.created_at), col(Guest.id))
    )
    return list((await session.exec(query)).all())


async def contacts_of(session: AsyncSession, guest_id: str) -> list[GuestContact]:
    return (await contacts_for(session, [guest_id])).get(guest_id, [])


async def contacts_for(
    session: AsyncSession, guest_ids: Iterable[str]
) -> dict[str, list[GuestContact]]:
    """Each profile's contacts, primary first, then oldest first (one query for a page)."""
    ids = list(dict.fromkeys(guest_ids))
    if not ids:
        return {}
    query = (
        select(GuestContact)
        .where(col(GuestContact.guest_id).in_(ids))
        .order_by(
            col(GuestContact.is_primary).desc(), col(GuestContact.created_at), col(GuestContact.id)
        )
    )
    found: dict[str, list[GuestContact]] = defaultdict(list)
    for contact in (await session.exec(query)).all():
        found[contact.guest_id].append(contact)
    return found


def primary(contacts: Sequence[GuestContact], kind: ContactKind) -> str | None:
    """The profile's `email` or `phone` as shown: its primary one, else its oldest."""
    return next((c.value for c in contacts if c.kind == kind), None)


def values(contacts: Sequence[GuestContact], kind: ContactKind) -> list[str]:
    return [c.value for c in contacts if c.kind == kind]


async def remove(session: AsyncSession, guest_id: str, kind: ContactKind, value: str) -> int:
    """Remove one contact of the profile; how many rows went (0 or 1)."""
    statement = delete(GuestContact).where(
        col(GuestContact.guest_id) == guest_id,
        col(GuestContact.kind) == kind,
        col(GuestContact.value_hash) == hash_of(kind, value),
    )
    return int((await session.exec(statement)).rowcount)

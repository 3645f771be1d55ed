"""Guest profiles: lookup by normalised contact, creation and change by staff, listing."""

from collections.abc import Sequence
from typing import Any

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book
from guest_service.contact_book import new_contact
from guest_service.models import (
    ContactKind,
    Guest,
    GuestContact,
    GuestCreate,
    GuestPublic,
    GuestStatus,
    GuestStay,
    GuestUpdate,
    Source,
)


async def get_guest(session: AsyncSession, guest_id: str) -> Guest:
    guest = await session.get(Guest, guest_id)
    if guest is None:
        raise NotFound("guest", guest_id)
    return guest


def public(guest: Guest, contacts: Sequence[GuestContact]) -> GuestPublic:
    """The profile as the API shows it: its primary email and phone beside its fields."""
    return GuestPublic.model_validate(
        guest,
        update={
            "email": contact_book.primary(contacts, ContactKind.EMAIL),
            "phone": contact_book.primary(contacts, ContactKind.PHONE),
        },
    )


async def _first(session: AsyncSession, ids: list[str]) -> Guest | None:
    return await session.get(Guest, ids[0]) if ids else None


async def find_by_email(session: AsyncSession, email: str) -> Guest | None:
    return await _first(session, await contact_book.holders(session, ContactKind.EMAIL, email))


async def find_by_phone(session: AsyncSession, phone: str) -> Guest | None:
    """The oldest active profile with this phone (a phone may be on several)."""
    return await _first(session, await contact_book.holders(session, ContactKind.PHONE, phone))


async def find_by_contact(
    session: AsyncSession, email: str | None, phone: str | None
) -> Guest | None:
    """The profile that owns this email, else this phone."""
    if email and (guest := await find_by_email(session, email)):
        return guest
    if phone and (guest := await find_by_phone(session, phone)):
        return guest
    return None


_TAKEN = "A guest profile with this email already exists."


def _exists(guest: Guest) -> ProblemError:
    return ProblemError(409, "guest_exists", _TAKEN, guest_id=guest.id)


async def create_guest(session: AsyncSession, data: GuestCreate) -> Guest:
    """Add a front-desk profile; 409 guest_exists when its email is another profile's (a phone
    may be shared: matching weighs it, docs/domain.md "Guests")."""
    if data.email and (holder := await find_by_email(session, data.email)):
        raise _exists(holder)
    guest = Guest(name=data.name, language=data.language, source=Source.FRONT_DESK)
    rows: list[Any] = [guest]
    for kind, value in ((ContactKind.EMAIL, data.email), (ContactKind.PHONE, data.phone)):
        if value:
            rows.append(new_contact(guest.id, kind, value, "front_desk", primary=True))
    if not await try_insert(session, *rows):
        # A concurrent request took the email between our check and our insert.
        holder = await find_by_email(session, data.email) if data.email else None
        raise _exists(holder) if holder else ProblemError(409, "guest_exists", _TAKEN)
    return guest


async def update_guest(session: AsyncSession, guest: Guest, changes: GuestUpdate) -> Guest:
    """Apply the fields the caller sent; a new phone replaces the primary one."""
    fields = changes.model_dump(exclude_unset=True)
    if not fields:
        return guest
    if "phone" in fields:
        contacts = await contact_book.contacts_of(session, guest.id)
        phone = fields.pop("phone")
        if phone is None and contact_book.primary(contacts, ContactKind.EMAIL) is None:
            raise ProblemError(
                422, "contact_required", "A profile without an email must keep its phone."
            )
        current = contact_book.primary(contacts, ContactKind.PHONE)
        if current != phone:
            if current is not None:
                await contact_book.remove(session, guest.id, ContactKind.PHONE, current)
            if phone is not None:
                await contact_book.remove(session, guest.id, ContactKind.PHONE, phone)
                session.add(
                    new_contact(guest.id, ContactKind.PHONE, phone, "front_desk", primary=True)
                )
    guest.sqlmodel_update(fields)
    guest.updated_at = utcnow()
    session.add(guest)
    return guest


async def list_guests(
    session: AsyncSession,
    paging: Paging,
    *,
    email: str | None,
    phone: str | None,
    name: str | None,
) -> Page[Guest]:
    """Active profiles newest first, keyset-paged on (created_at, id)."""
    query = select(Guest).where(Guest.status == GuestStatus.ACTIVE)
    for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone)):
        if value is not None:
            holding = select(GuestContact.guest_id).where(
                GuestContact.kind == kind,
                GuestContact.value_hash == contact_book.hash_of(kind, value),
            )
            query = query.where(col(Guest.id).in_(holding))
    if name:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(col(Guest.name).ilike(pattern, escape="\\"))
    order = (col(Guest.created_at), col(Guest.id))
    return await keyset_page(session, query, paging, *order, descending=True)


async def stays_of(session: AsyncSession, guest_id: str) -> Sequence[GuestStay]:
    query = (
        select(GuestStay)
        .where(GuestStay.guest_id == guest_id)
        .order_by(col(GuestStay.check_in).desc(), col(GuestStay.id))
    )
    return (await session.exec(query)).all()

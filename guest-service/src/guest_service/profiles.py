"""Guest profiles: lookup by normalised contact or document, creation and change by staff and by
the guest, contacts, listing.

Every write recomputes the keyed hashes matching uses (`refresh_hashes`): the identity hash of
the name with the birth date, and the document hash of type and number. Those columns are never
written anywhere else, so they cannot drift from the sealed values they stand for.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import contact_book, lifecycle, suggestions
from guest_service.contact_book import new_contact
from guest_service.crypto import lookup_hash
from guest_service.matching import name_key
from guest_service.models import (
    ContactCreate,
    ContactKind,
    ContactPublic,
    DocumentType,
    Guest,
    GuestContact,
    GuestCreate,
    GuestPublic,
    GuestSelfUpdate,
    GuestStatus,
    GuestStay,
    GuestUpdate,
    Preferences,
    Source,
    preferences_json,
)

DOCUMENT_FIELDS = ("document_type", "document_number", "document_expiry")


async def get_guest(session: AsyncSession, guest_id: str) -> Guest:
    guest = await session.get(Guest, guest_id)
    if guest is None:
        raise NotFound("guest", guest_id)
    return guest


def masked_document(number: str | None) -> str | None:
    """A document number as a profile shows it: its last four characters (enough to confirm
    it is the guest's document, as the check-in record keeps), the rest starred."""
    if number is None:
        return None
    return "*" * max(len(number) - 4, 1) + number[-4:]


def public(guest: Guest, contacts: Sequence[GuestContact]) -> GuestPublic:
    """The profile as the API shows it: its primary email and phone beside its fields, every
    contact, the document number masked."""
    return GuestPublic.model_validate(
        guest,
        update={
            "email": contact_book.primary(contacts, ContactKind.EMAIL),
            "phone": contact_book.primary(contacts, ContactKind.PHONE),
            "contacts": [ContactPublic.model_validate(c) for c in contacts],
            "document_number": masked_document(guest.document_number),
        },
    )


# -- keyed hashes ---------------------------------------------------------------------------
def identity_hash(name: str, birth_date: date | None) -> str | None:
    """What finds "the same person" without a shared contact: name key and birth date."""
    if birth_date is None or not name_key(name):
        return None
    return lookup_hash("identity", f"{name_key(name)}|{birth_date.isoformat()}")


def document_hash(document_type: DocumentType | str | None, number: str | None) -> str | None:
    if document_type is None or number is None:
        return None
    return lookup_hash("document", f"{DocumentType(document_type).value}:{number}")


def refresh_hashes(guest: Guest) -> None:
    guest.identity_hash = identity_hash(guest.name, guest.birth_date)
    guest.document_hash = document_hash(guest.document_type, guest.document_number)


# -- lookups ----------------------------------------------------------------------------------
async def find_by_email(session: AsyncSession, email: str) -> Guest | None:
    """The active profile holding this email (an email is one profile's)."""
    ids = await contact_book.holders(session, ContactKind.EMAIL, email)
    return await session.get(Guest, ids[0]) if ids else None


async def find_own(session: AsyncSession, email: str | None, phone: str | None) -> Guest | None:
    """A signed-in guest's own profile: the one holding the email they signed in with; else
    the ONE active profile holding their phone. A phone on several profiles (an agency's
    number) names nobody: showing or changing one of them could be another person's."""
    if email and (guest := await find_by_email(session, email)):
        return guest
    if phone:
        holders = await contact_book.holders(session, ContactKind.PHONE, phone)
        if len(holders) == 1:
            return await session.get(Guest, holders[0])
    return None


def document_hashes(number: str, document_type: DocumentType | None) -> list[str]:
    """The hashes `?document=` compares with: of the given type, else of every type."""
    types = [document_type] if document_type else list(DocumentType)
    return [h for t in types if (h := document_hash(t, number)) is not None]


# -- checks -----------------------------------------------------------------------------------
_TAKEN = "A guest profile with this email already exists."


def _exists(guest: Guest) -> ProblemError:
    return ProblemError(409, "guest_exists", _TAKEN, guest_id=guest.id)


def ensure_active(guest: Guest) -> None:
    """A merged or erased profile is history: it is read, never changed."""
    if guest.status != GuestStatus.ACTIVE:
        state = GuestStatus(guest.status).value
        raise ProblemError(
            409,
            "guest_not_active",
            f"The profile is {state}; it is read, not changed.",
            profile_status=state,
            merged_into_id=guest.merged_into_id,
        )


async def _check_referrer(session: AsyncSession, referrer_id: str, guest_id: str) -> None:
    if referrer_id == guest_id:
        raise ProblemError(422, "referrer_is_self", "A guest cannot refer themselves.")
    referrer = await session.get(Guest, referrer_id)
    if referrer is None or referrer.status != GuestStatus.ACTIVE:
        raise ProblemError(
            422, "referrer_not_found", f"No active guest profile with id {referrer_id}."
        )


def _field_values(data: Any, fields: set[str]) -> dict[str, Any]:
    """The model's fields among `fields`, as the table stores them."""
    values = {name: getattr(data, name) for name in fields}
    if isinstance(values.get("preferences"), Preferences):
        values["preferences"] = preferences_json(values["preferences"])
    return values


# -- writes -----------------------------------------------------------------------------------
_PROFILE_FIELDS = frozenset(GuestCreate.model_fields) - {"email", "phone"}


async def create_guest(session: AsyncSession, data: GuestCreate) -> Guest:
    """Add a front-desk profile; 409 guest_exists when its email is another profile's (a phone
    may be shared: matching weighs it, docs/domain.md "Guests"); 422 for a referrer that is no
    active profile."""
    if data.email and (holder := await find_by_email(session, data.email)):
        raise _exists(holder)
    guest = Guest(**_field_values(data, set(_PROFILE_FIELDS)), source=Source.FRONT_DESK)
    if data.referrer_id is not None:
        await _check_referrer(session, data.referrer_id, guest.id)
    refresh_hashes(guest)
    rows: list[Any] = [guest]
    for kind, value in ((ContactKind.EMAIL, data.email), (ContactKind.PHONE, data.phone)):
        if value:
            rows.append(new_contact(guest.id, kind, value, "front_desk", primary=True))
    if not await try_insert(session, *rows):
        # A concurrent request took the email between our check and our insert.
        holder = await find_by_email(session, data.email) if data.email else None
        raise _exists(holder) if holder else ProblemError(409, "guest_exists", _TAKEN)
    await suggestions.review(session, guest.id)  # the same person entered twice?
    return guest


async def _replace_primary_phone(
    session: AsyncSession, guest: Guest, phone: str | None, source: str
) -> None:
    contacts = await contact_book.contacts_of(session, guest.id)
    if (
        phone is None
        and contact_book.primary(contacts, ContactKind.EMAIL) is None
        and len(contact_book.values(contacts, ContactKind.PHONE)) <= 1
    ):
        raise _contact_required()
    current = contact_book.primary(contacts, ContactKind.PHONE)
    if current == phone:
        return
    if current is not None:
        await contact_book.remove(session, guest.id, ContactKind.PHONE, current)
    if phone is not None:
        await contact_book.remove(session, guest.id, ContactKind.PHONE, phone)
        await _demote(session, await contact_book.contacts_of(session, guest.id), ContactKind.PHONE)
        session.add(new_contact(guest.id, ContactKind.PHONE, phone, source, primary=True))
    else:
        await promote_oldest(session, guest.id, ContactKind.PHONE)


async def _apply(session: AsyncSession, guest: Guest, fields: dict[str, Any]) -> Guest:
    """Write `fields` (validated, table form) and refresh what depends on them."""
    if fields.get("referrer_id") is not None:
        await _check_referrer(session, fields["referrer_id"], guest.id)
    if "document_type" in fields and fields["document_type"] is None:
        # No type, no document: the number and expiry mean nothing alone.
        fields |= {"document_number": None, "document_expiry": None}
    guest.sqlmodel_update(fields)
    if guest.document_number is not None and guest.document_type is None:
        raise ProblemError(
            422, "document_type_required", "A document number needs its document_type."
        )
    refresh_hashes(guest)
    guest.updated_at = utcnow()
    session.add(guest)
    return guest


async def update_guest(session: AsyncSession, guest: Guest, changes: GuestUpdate) -> Guest:
    """Apply the fields the caller sent (null clears an optional one); a new phone replaces the
    primary one."""
    ensure_active(guest)
    sent = set(changes.model_fields_set)
    if not sent:
        return guest
    if "phone" in sent:
        await _replace_primary_phone(session, guest, changes.phone, "front_desk")
        sent.discard("phone")
    guest = await _apply(session, guest, _field_values(changes, sent))
    await session.flush()
    await suggestions.review(session, guest.id)  # a new document or birth date may reveal one
    return guest


async def update_own(session: AsyncSession, guest: Guest, changes: GuestSelfUpdate) -> Guest:
    """What a signed-in guest changes of their own profile (GuestSelfUpdate says which)."""
    ensure_active(guest)
    sent = set(changes.model_fields_set)
    if not sent:
        return guest
    return await _apply(session, guest, _field_values(changes, sent))


# -- contacts ---------------------------------------------------------------------------------
def _contact_required() -> ProblemError:
    return ProblemError(
        422, "contact_required", "A profile keeps at least one email or phone to be found by."
    )


async def _demote(
    session: AsyncSession, contacts: Sequence[GuestContact], kind: ContactKind
) -> None:
    """The primary of `kind` among the profile's `contacts` (as stored now) is no longer."""
    for contact in contacts:
        if contact.kind == kind and contact.is_primary:
            contact.is_primary = False
            session.add(contact)
    await session.flush()


async def promote_oldest(session: AsyncSession, guest_id: str, kind: ContactKind) -> None:
    """After the primary of `kind` (or any contacts) went: the oldest one left of `kind`
    becomes primary if none is."""
    left = [c for c in await contact_book.contacts_of(session, guest_id) if c.kind == kind]
    if left and not any(c.is_primary for c in left):
        oldest = min(left, key=lambda c: (c.created_at, c.id))
        oldest.is_primary = True
        session.add(oldest)


async def add_contact(
    session: AsyncSession, guest: Guest, data: ContactCreate, source: str
) -> GuestContact:
    """One more email or phone: 409 `guest_exists` for an email another profile holds, 409
    `contact_exists` for one this profile holds; the first of its kind becomes primary."""
    ensure_active(guest)
    contacts = await contact_book.contacts_of(session, guest.id)
    if data.value in contact_book.values(contacts, data.kind):
        raise ProblemError(409, "contact_exists", f"The profile already has this {data.kind}.")
    if data.kind is ContactKind.EMAIL and (holder := await find_by_email(session, data.value)):
        raise _exists(holder)
    first = not any(c.kind == data.kind for c in contacts)
    if data.primary and not first:
        await _demote(session, contacts, data.kind)
    contact = new_contact(guest.id, data.kind, data.value, source, primary=data.primary or first)
    if not await try_insert(session, contact):
        holder = await find_by_email(session, data.value)
        raise _exists(holder) if holder else ProblemError(409, "guest_exists", _TAKEN)
    guest.updated_at = utcnow()
    session.add(guest)
    await lifecycle.contacts_changed(session, guest.id)
    return contact


async def _contact(session: AsyncSession, guest: Guest, contact_id: str) -> GuestContact:
    contact = await session.get(GuestContact, contact_id)
    if contact is None or contact.guest_id != guest.id:
        raise NotFound("contact", contact_id)
    return contact


async def make_primary(session: AsyncSession, guest: Guest, contact_id: str) -> GuestContact:
    ensure_active(guest)
    contact = await _contact(session, guest, contact_id)
    if not contact.is_primary:
        await _demote(session, await contact_book.contacts_of(session, guest.id), contact.kind)
        contact.is_primary = True
        session.add(contact)
        guest.updated_at = utcnow()
        session.add(guest)
        await lifecycle.contacts_changed(session, guest.id)
    return contact


async def remove_contact(session: AsyncSession, guest: Guest, contact_id: str) -> None:
    """Remove one contact; never the last one (422 `contact_required`). The primary's place
    goes to the oldest left of its kind."""
    ensure_active(guest)
    contact = await _contact(session, guest, contact_id)
    if len(await contact_book.contacts_of(session, guest.id)) <= 1:
        raise _contact_required()
    await contact_book.remove(session, guest.id, ContactKind(contact.kind), contact.value)
    session.expunge(contact)
    if contact.is_primary:
        await promote_oldest(session, guest.id, ContactKind(contact.kind))
    guest.updated_at = utcnow()
    session.add(guest)
    await lifecycle.contacts_changed(session, guest.id)


# -- listing ----------------------------------------------------------------------------------
async def list_guests(
    session: AsyncSession,
    paging: Paging,
    *,
    email: str | None,
    phone: str | None,
    name: str | None,
    document: list[str] | None = None,
) -> Page[Guest]:
    """Active profiles newest first, keyset-paged on (created_at, id). `document`: the document
    hashes to match (`document_hashes`)."""
    query = select(Guest).where(Guest.status == GuestStatus.ACTIVE)
    for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone)):
        if value is not None:
            holding = select(GuestContact.guest_id).where(
                GuestContact.kind == kind,
                GuestContact.value_hash == contact_book.hash_of(kind, value),
            )
            query = query.where(col(Guest.id).in_(holding))
    if document is not None:
        query = query.where(col(Guest.document_hash).in_(document))
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

"""Guest profiles: lookup by normalised contact, creation and change by staff, listing."""

from collections.abc import Sequence

from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import try_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service.models import Guest, GuestCreate, GuestStay, GuestUpdate, Source


async def get_guest(session: AsyncSession, guest_id: str) -> Guest:
    guest = await session.get(Guest, guest_id)
    if guest is None:
        raise NotFound("guest", guest_id)
    return guest


async def find_by_email(session: AsyncSession, email: str) -> Guest | None:
    return (await session.exec(select(Guest).where(Guest.email == email))).first()


async def find_by_phone(session: AsyncSession, phone: str) -> Guest | None:
    return (await session.exec(select(Guest).where(Guest.phone == phone))).first()


async def find_by_contact(
    session: AsyncSession, email: str | None, phone: str | None
) -> Guest | None:
    """The profile that owns this email, else this phone."""
    if email and (guest := await find_by_email(session, email)):
        return guest
    if phone and (guest := await find_by_phone(session, phone)):
        return guest
    return None


_TAKEN = "A guest profile with this email or phone already exists."


def _exists(guest: Guest) -> ProblemError:
    return ProblemError(409, "guest_exists", _TAKEN, guest_id=guest.id)


async def create_guest(session: AsyncSession, data: GuestCreate) -> Guest:
    """Add a front-desk profile; 409 guest_exists when its email or phone is taken."""
    if holder := await find_by_contact(session, data.email, data.phone):
        raise _exists(holder)
    guest = Guest.model_validate(data, update={"source": Source.FRONT_DESK})
    if not await try_insert(session, guest):
        # A concurrent request took the contact between our check and our insert.
        holder = await find_by_contact(session, data.email, data.phone)
        raise _exists(holder) if holder else ProblemError(409, "guest_exists", _TAKEN)
    return guest


async def update_guest(session: AsyncSession, guest: Guest, changes: GuestUpdate) -> Guest:
    """Apply the fields the caller sent; a phone owned by another profile is a 409."""
    fields = changes.model_dump(exclude_unset=True)
    phone = fields.get("phone")
    if phone and (holder := await find_by_phone(session, phone)) and holder.id != guest.id:
        raise _exists(holder)
    if "phone" in fields and phone is None and guest.email is None:
        raise ProblemError(
            422, "contact_required", "A profile without an email must keep its phone."
        )
    if not fields:
        return guest
    try:
        # Changed inside the savepoint, so a lost race rolls back only this change.
        async with session.begin_nested():
            guest.sqlmodel_update(fields)
            guest.updated_at = utcnow()
    except IntegrityError:
        if phone and (holder := await find_by_phone(session, phone)):
            raise _exists(holder) from None
        raise
    return guest


async def list_guests(
    session: AsyncSession,
    paging: Paging,
    *,
    email: str | None,
    phone: str | None,
    name: str | None,
) -> Page[Guest]:
    """Newest first, keyset-paged on (created_at, id)."""
    query = select(Guest)
    if email is not None:
        query = query.where(Guest.email == email)
    if phone is not None:
        query = query.where(Guest.phone == phone)
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

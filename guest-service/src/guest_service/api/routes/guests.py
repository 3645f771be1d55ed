"""Guest profiles for the front desk and dashboards: find, read with stays, create, change;
and a signed-in guest's own profile. Who may do what: `guest_service.access`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound, problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Principal, PrincipalDep

from guest_service import access, contact_book, profiles
from guest_service.contacts import email_filter, phone_filter
from guest_service.models import (
    Guest,
    GuestCreate,
    GuestDetail,
    GuestPublic,
    GuestStayPublic,
    GuestUpdate,
)

router = APIRouter(prefix="/api/v1/guests", tags=["guests"])

EXAMPLE: dict[str, Any] = {
    "id": "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
    "name": "Lin Mei",
    "email": "lin.mei@example.com",
    "phone": "+8613900139000",
    "language": "zh-Hans",
    "source": "booking",
    "created_at": "2030-05-20T08:15:00Z",
    "updated_at": "2030-05-20T08:15:00Z",
}
STAY: dict[str, Any] = {
    "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    "guest_id": EXAMPLE["id"],
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "confirmation_number": "HV-7K3Q9D",
    "property_name": "Bund Garden Hotel",
    "room_type_code": "KNG",
    "check_in": "2030-06-01",
    "check_out": "2030-06-03",
    "status": "confirmed",
    "total_amount": 158000,
    "currency": "CNY",
    "nights": None,
    "amount_spent": None,
    "created_at": "2030-05-20T08:15:00Z",
    "updated_at": "2030-05-20T08:15:00Z",
}
UNAUTHENTICATED = {401: "unauthenticated: no signed-in caller"}
READ_FORBIDDEN = {403: "forbidden: desk staff and marketing only"}
WRITE_FORBIDDEN = {403: "forbidden: desk staff (front desk, reservations, manager) only"}
NOT_FOUND = {404: "guest_not_found: no profile with this id"}
EXISTS = {409: "guest_exists: another profile has this email or phone (its id in guest_id)"}


@router.get(
    "",
    summary="Find guest profiles",
    dependencies=[access.may_read],
    responses={
        200: example({"items": [EXAMPLE], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN}),
    },
)
async def list_guests(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    email: Annotated[str | None, Query(max_length=254, description="Exact, any case")] = None,
    phone: Annotated[str | None, Query(max_length=40, description="Exact, any spacing")] = None,
    name: Annotated[str | None, Query(max_length=200, description="Contains, any case")] = None,
) -> Page[GuestPublic]:
    """Profiles newest first, for desk staff; marketing sees email and phone masked
    (`li*****************`)."""
    page = await profiles.list_guests(
        session,
        paging,
        email=email_filter(email),
        phone=phone_filter(phone),
        name=name.strip() if name else None,
    )
    contacts = await contact_book.contacts_for(session, (g.id for g in page.items))
    return page.map(
        lambda g: access.shown_to(principal, profiles.public(g, contacts.get(g.id, [])))
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a guest profile",
    dependencies=[access.may_write],
    responses={
        201: example(EXAMPLE | {"source": "front_desk"}, "Created"),
        **problems({**UNAUTHENTICATED, **WRITE_FORBIDDEN, **EXISTS}),
    },
)
async def create_guest(session: SessionDep, body: GuestCreate) -> GuestPublic:
    """A profile entered by desk staff; it needs an email or a phone, each unique across
    profiles (bookings with that contact are then linked to it)."""
    guest = await profiles.create_guest(session, body)
    await session.commit()
    return profiles.public(guest, await contact_book.contacts_of(session, guest.id))


async def _detail(session: SessionDep, guest: Guest) -> GuestDetail:
    stays = await profiles.stays_of(session, guest.id)
    shown = profiles.public(guest, await contact_book.contacts_of(session, guest.id))
    return GuestDetail.model_validate(
        shown, update={"stays": [GuestStayPublic.model_validate(s) for s in stays]}
    )


# Before /{guest_id}, which would otherwise take "me" for an id.
@router.get(
    "/me",
    summary="My guest profile",
    responses={
        200: example(EXAMPLE | {"stays": [STAY]}),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden: only a signed-in guest has a profile of their own",
                404: "guest_not_found: no profile has the address you signed in with",
            }
        ),
    },
)
async def get_my_guest_profile(
    session: SessionDep, principal: Annotated[Principal, Depends(access.guest_address)]
) -> GuestDetail:
    """The signed-in guest's own profile with their stays: the profile holding the email they
    signed in with, else the one holding their phone."""
    guest = await profiles.find_by_contact(session, principal.email, principal.phone)
    if guest is None:
        raise NotFound("guest", "me")
    return await _detail(session, guest)


@router.get(
    "/{guest_id}",
    summary="Get a guest profile with its stays",
    dependencies=[access.may_read],
    responses={
        200: example(EXAMPLE | {"stays": [STAY]}),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def get_guest(session: SessionDep, principal: PrincipalDep, guest_id: str) -> GuestDetail:
    """One profile and its stays, newest check-in first; marketing sees email and phone
    masked."""
    guest = await profiles.get_guest(session, guest_id)
    return access.shown_to(principal, await _detail(session, guest))


@router.patch(
    "/{guest_id}",
    summary="Change a guest profile",
    dependencies=[access.may_write],
    responses={
        200: example(EXAMPLE | {"name": "Lin Mei (Mrs)"}),
        **problems({**UNAUTHENTICATED, **WRITE_FORBIDDEN, **NOT_FOUND, **EXISTS}),
    },
)
async def update_guest(session: SessionDep, guest_id: str, body: GuestUpdate) -> GuestPublic:
    """Change name, phone (null removes it, unless it is the only contact: 422
    `contact_required`) or language. The email is the profile's key and does not change."""
    guest = await profiles.get_guest(session, guest_id)
    guest = await profiles.update_guest(session, guest, body)
    await session.commit()
    return profiles.public(guest, await contact_book.contacts_of(session, guest.id))

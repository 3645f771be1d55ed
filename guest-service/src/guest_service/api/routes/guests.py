"""Guest profiles for the front desk and dashboards: find (by contact, document or name), read
with stays, create, change; the full ID document (audited) and the audit of such reads; the
re-encryption of sealed data after a key rotation; and a signed-in guest's own profile. Who may
do what: `guest_service.access`."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from hotel_common.contract import example
from hotel_common.db import transaction
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import PrincipalDep, refused

from guest_service import access, contact_book, pii_audit, privacy, profiles, reencrypt
from guest_service.api.routes.common import GUEST_NOT_FOUND, UNAUTHENTICATED, GuestCaller
from guest_service.contacts import email_filter, phone_filter
from guest_service.models import (
    DocumentType,
    Guest,
    GuestCreate,
    GuestDetail,
    GuestDocument,
    GuestPublic,
    GuestSelfUpdate,
    GuestStayPublic,
    GuestUpdate,
    PiiField,
    PiiReadPublic,
    normalise_document_number,
)

router = APIRouter(prefix="/api/v1/guests", tags=["guests"])

EXAMPLE: dict[str, Any] = {
    "id": "3c2b1a09-8f7e-4d6c-b5a4-93827160fedc",
    "name": "Lin Mei",
    "email": "lin.mei@example.com",
    "phone": "+8613900139000",
    "language": "zh-Hans",
    "native_name": "林梅",
    "latin_name": "LIN MEI",
    "gender": "female",
    "birth_date": "1988-03-14",
    "nationality": "CN",
    "address": "88 Century Avenue, Pudong, Shanghai",
    "company": "Lujiazui Trading Co.",
    "contacts": [
        {
            "id": "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            "kind": "email",
            "value": "lin.mei@example.com",
            "is_primary": True,
            "source": "booking",
            "created_at": "2030-05-20T08:15:00Z",
        },
        {
            "id": "6a2f3e4d-5c6b-4a79-9887-b6c5d4e3f201",
            "kind": "phone",
            "value": "+8613900139000",
            "is_primary": True,
            "source": "booking",
            "created_at": "2030-05-20T08:15:00Z",
        },
    ],
    "document_type": "national_id",
    "document_number": "**************1234",
    "document_expiry": "2035-01-31",
    "vip_level": 1,
    "tags": ["business"],
    "preferences": {"floor": "high", "pillow": "firm", "dietary": ["no_pork"]},
    "notes": "Prefers a late check-out on Sundays.",
    "referrer_id": None,
    "source": "booking",
    "status": "active",
    "merged_into_id": None,
    "version": 1,
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
READ_FORBIDDEN = {403: "forbidden: desk staff and marketing only"}
WRITE_FORBIDDEN = {403: "forbidden: desk staff (front desk, reservations, manager) only"}
EXISTS = {409: "guest_exists: another profile has this email (its id in guest_id)"}
CHANGE_CONFLICT = {
    409: "guest_exists: another profile has this email (its id in guest_id); guest_not_active: "
    "the profile was merged or erased"
}
REFERRER = {
    422: "validation_error; referrer_not_found: no active profile with referrer_id; "
    "referrer_is_self; contact_required: the profile's last contact cannot go; "
    "document_type_required"
}


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
    document: Annotated[
        str | None,
        Query(max_length=60, description="ID document number, any spacing (desk staff only)"),
    ] = None,
    document_type: Annotated[
        DocumentType | None, Query(description="Narrows `document` to one type")
    ] = None,
) -> Page[GuestPublic]:
    """Active profiles newest first, for desk staff; marketing sees contacts and address masked
    (`li*****************`). `email`, `phone` and `document` compare keyed hashes of the
    normalised value; a phone may be on several profiles."""
    if document is not None and not access.sees_contacts(principal):
        raise refused(principal)  # finding by document tells who holds it
    hashes = None
    if document is not None:
        try:
            hashes = profiles.document_hashes(normalise_document_number(document), document_type)
        except ValueError:
            hashes = []  # not a document number: it matches nothing
    page = await profiles.list_guests(
        session,
        paging,
        email=email_filter(email),
        phone=phone_filter(phone),
        name=name.strip() if name else None,
        document=hashes,
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
        **problems({**UNAUTHENTICATED, **WRITE_FORBIDDEN, **EXISTS, **REFERRER}),
    },
)
async def create_guest(session: SessionDep, body: GuestCreate) -> GuestPublic:
    """A profile entered by desk staff; it needs an email or a phone. An email is one
    profile's (409 `guest_exists` names the holder); a phone may be on several (an agency's
    number). The referrer, if any, is an active profile (422 `referrer_not_found`)."""
    guest = await profiles.create_guest(session, body)
    await session.commit()
    return profiles.public(guest, await contact_book.contacts_of(session, guest.id))


async def _detail(session: SessionDep, guest: Guest) -> GuestDetail:
    stays = await profiles.stays_of(session, guest.id)
    shown = profiles.public(guest, await contact_book.contacts_of(session, guest.id))
    return GuestDetail.model_validate(
        shown, update={"stays": [GuestStayPublic.model_validate(s) for s in stays]}
    )


ME_PROBLEMS = {
    **UNAUTHENTICATED,
    403: "forbidden: only a signed-in guest has a profile of their own",
    404: "guest_not_found: no profile has the address you signed in with (a phone on several "
    "profiles names none of them)",
}


# Before /{guest_id}, which would otherwise take "me" for an id.
@router.get(
    "/me",
    summary="My guest profile",
    responses={200: example(EXAMPLE | {"stays": [STAY]}), **problems(ME_PROBLEMS)},
)
async def get_my_guest_profile(session: SessionDep, principal: GuestCaller) -> GuestDetail:
    """The signed-in guest's own profile with their stays: the profile holding the email they
    signed in with, else the one profile holding their phone."""
    return await _detail(session, await privacy.my_guest(session, principal))


@router.patch(
    "/me",
    summary="Change my guest profile",
    responses={
        200: example(EXAMPLE | {"preferences": {"pillow": "soft"}}),
        **problems(
            {
                **ME_PROBLEMS,
                409: "guest_not_active: the profile was merged or erased",
                422: "validation_error: a field a guest may not change, or a bad value",
            }
        ),
    },
)
async def update_my_guest_profile(
    session: SessionDep,
    principal: GuestCaller,
    body: GuestSelfUpdate,
) -> GuestPublic:
    """What a guest may change of their own profile: names, gender, birth date, nationality,
    language, address, company and preferences. Contacts, ID document, VIP level, tags, notes
    and referrer are the hotel's (422 naming the field)."""
    guest = await profiles.update_own(session, await privacy.my_guest(session, principal), body)
    await session.commit()
    return profiles.public(guest, await contact_book.contacts_of(session, guest.id))


@router.get(
    "/pii-reads",
    summary="Reads of guests' ID documents",
    dependencies=[access.may_audit],
    responses={
        200: example(
            {
                "items": [
                    {
                        "id": "0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9",
                        "guest_id": EXAMPLE["id"],
                        "field": "document",
                        "reader": "staff:7",
                        "roles": ["front_desk"],
                        "ip": "10.0.4.21",
                        "read_at": "2030-06-01T14:02:11Z",
                    }
                ],
                "next_cursor": None,
            }
        ),
        **problems(
            {
                400: "invalid_cursor",
                **UNAUTHENTICATED,
                403: "forbidden: managers and admins only",
            }
        ),
    },
)
async def list_pii_reads(
    session: SessionDep,
    paging: PagingDep,
    guest_id: Annotated[str | None, Query(max_length=36)] = None,
    reader: Annotated[str | None, Query(max_length=100, description='e.g. "staff:7"')] = None,
) -> Page[PiiReadPublic]:
    """The audit of full ID-document reads, newest first: who (principal id, roles, address),
    whose and when."""
    page = await pii_audit.reads(session, paging, guest_id=guest_id, reader=reader)
    return page.map(pii_audit.public)


@router.post(
    "/re-encryption",
    summary="Re-seal personal data under the current key",
    dependencies=[access.may_administer],
    responses={
        200: example({"legacy_sealed": 0, "resealed": {"guests.address": 120}, "left": 0}),
        **problems({**UNAUTHENTICATED, 403: "forbidden: admins only"}),
    },
)
async def run_re_encryption(runtime: RuntimeDep) -> reencrypt.Report:
    """After a new key was put first in `pii_keys`: seal every value not yet under it (legacy
    plaintext included), in batches, each committed. When `left` is 0, the old key may leave
    the ring. Safe to run again and alongside traffic."""
    return await reencrypt.run(runtime.sessions)


@router.get(
    "/{guest_id}",
    summary="Get a guest profile with its stays",
    dependencies=[access.may_read],
    responses={
        200: example(EXAMPLE | {"stays": [STAY]}),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **GUEST_NOT_FOUND}),
    },
)
async def get_guest(session: SessionDep, principal: PrincipalDep, guest_id: str) -> GuestDetail:
    """One profile (also a merged or erased one: its `status` says so) and its stays, newest
    check-in first; marketing sees contacts and address masked, no birth date."""
    guest = await profiles.get_guest(session, guest_id)
    return access.shown_to(principal, await _detail(session, guest))


@router.patch(
    "/{guest_id}",
    summary="Change a guest profile",
    dependencies=[access.may_write],
    responses={
        200: example(EXAMPLE | {"name": "Lin Mei (Mrs)"}),
        **problems(
            {**UNAUTHENTICATED, **WRITE_FORBIDDEN, **GUEST_NOT_FOUND, **CHANGE_CONFLICT, **REFERRER}
        ),
    },
)
async def update_guest(session: SessionDep, guest_id: str, body: GuestUpdate) -> GuestPublic:
    """Change the fields sent (null clears an optional one; `document_type: null` clears the
    whole document). `phone` replaces the primary phone (null removes it, unless it is the
    last contact: 422 `contact_required`); emails and further phones are
    `/guests/{id}/contacts`."""
    guest = await profiles.get_guest(session, guest_id)
    guest = await profiles.update_guest(session, guest, body)
    await session.commit()
    return profiles.public(guest, await contact_book.contacts_of(session, guest.id))


@router.get(
    "/{guest_id}/document",
    summary="Read a guest's ID document in full (audited)",
    dependencies=[access.may_read_documents],
    responses={
        200: example(
            {
                "guest_id": EXAMPLE["id"],
                "document_type": "national_id",
                "document_number": "310101198803141234",
                "document_expiry": "2035-01-31",
                "read_id": "0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9",
            }
        ),
        **problems(
            {
                **UNAUTHENTICATED,
                403: "forbidden: front desk and managers only",
                **GUEST_NOT_FOUND,
            }
        ),
    },
)
async def get_guest_document(
    runtime: RuntimeDep, principal: PrincipalDep, guest_id: str
) -> GuestDocument:
    """The ID document as the guest showed it. The read is recorded (who, when, from where) in
    the same transaction, so no answer leaves unrecorded: `GET /guests/pii-reads`."""
    async with transaction(runtime.sessions) as session:  # a GET that writes its audit row
        guest = await profiles.get_guest(session, guest_id)
        read = pii_audit.record(session, guest.id, PiiField.DOCUMENT, principal)
        return GuestDocument(
            guest_id=guest.id,
            document_type=guest.document_type,
            document_number=guest.document_number,
            document_expiry=guest.document_expiry,
            read_id=read.id,
        )

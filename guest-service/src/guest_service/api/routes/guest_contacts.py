"""A profile's emails and phones as a sub-resource: list, add, make primary, remove. Desk staff
change them; readers see them as the profile shows them (marketing: masked)."""

from fastapi import APIRouter, Response, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.principal import PrincipalDep, masked

from guest_service import access, contact_book, profiles
from guest_service.api.routes.common import UNAUTHENTICATED
from guest_service.models import ContactCreate, ContactPublic, ContactUpdate

router = APIRouter(prefix="/api/v1/guests/{guest_id}/contacts", tags=["guests"])

CONTACT = {
    "id": "6a2f3e4d-5c6b-4a79-9887-b6c5d4e3f201",
    "kind": "email",
    "value": "lin.mei@work.example.com",
    "is_primary": False,
    "source": "front_desk",
    "created_at": "2030-05-20T08:15:00Z",
}
WRITE_FORBIDDEN = {403: "forbidden: desk staff (front desk, reservations, manager) only"}
NOT_FOUND = {404: "guest_not_found / contact_not_found"}
INACTIVE = "guest_not_active: the profile was merged or erased"


@router.get(
    "",
    summary="A guest's emails and phones",
    dependencies=[access.may_read],
    responses={
        200: example([CONTACT | {"is_primary": True}]),
        **problems(
            {**UNAUTHENTICATED, 403: "forbidden: desk staff and marketing only", **NOT_FOUND}
        ),
    },
)
async def list_guest_contacts(
    session: SessionDep, principal: PrincipalDep, guest_id: str
) -> list[ContactPublic]:
    """Primary first, then oldest first; marketing sees the values masked."""
    guest = await profiles.get_guest(session, guest_id)
    shown = [
        ContactPublic.model_validate(c) for c in await contact_book.contacts_of(session, guest.id)
    ]
    if access.sees_contacts(principal):
        return shown
    return [c.model_copy(update={"value": masked(c.value)}) for c in shown]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an email or phone to a guest",
    dependencies=[access.may_write],
    responses={
        201: example(CONTACT, "Created"),
        **problems(
            {
                **UNAUTHENTICATED,
                **WRITE_FORBIDDEN,
                **NOT_FOUND,
                409: "guest_exists: another profile has this email (its id in guest_id); "
                f"contact_exists: this profile has it already; {INACTIVE}",
            }
        ),
    },
)
async def add_guest_contact(
    session: SessionDep, guest_id: str, body: ContactCreate
) -> ContactPublic:
    """An email is one profile's; a phone may be on several. `primary: true` makes it the one
    shown as the profile's `email` / `phone`; the first of its kind is primary anyway."""
    guest = await profiles.get_guest(session, guest_id)
    contact = await profiles.add_contact(session, guest, body, "front_desk")
    await session.commit()
    return ContactPublic.model_validate(contact)


@router.patch(
    "/{contact_id}",
    summary="Make a contact the primary one",
    dependencies=[access.may_write],
    responses={
        200: example(CONTACT | {"is_primary": True}),
        **problems(
            {
                **UNAUTHENTICATED,
                **WRITE_FORBIDDEN,
                **NOT_FOUND,
                409: INACTIVE,
                422: "validation_error; primary_required: make another contact primary instead",
            }
        ),
    },
)
async def update_guest_contact(
    session: SessionDep, guest_id: str, contact_id: str, body: ContactUpdate
) -> ContactPublic:
    """`is_primary: true` makes it the primary of its kind (the previous one stays, not
    primary). A kind always has a primary: to change it, make another one primary."""
    guest = await profiles.get_guest(session, guest_id)
    if not body.is_primary:
        raise ProblemError(
            422,
            "primary_required",
            "A kind always has a primary: make another contact primary instead.",
        )
    contact = await profiles.make_primary(session, guest, contact_id)
    await session.commit()
    return ContactPublic.model_validate(contact)


@router.delete(
    "/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a contact from a guest",
    dependencies=[access.may_write],
    responses={
        **problems(
            {
                **UNAUTHENTICATED,
                **WRITE_FORBIDDEN,
                **NOT_FOUND,
                409: INACTIVE,
                422: "contact_required: a profile keeps at least one email or phone",
            }
        )
    },
)
async def remove_guest_contact(session: SessionDep, guest_id: str, contact_id: str) -> Response:
    """The primary's place goes to the oldest contact left of its kind."""
    guest = await profiles.get_guest(session, guest_id)
    await profiles.remove_contact(session, guest, contact_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

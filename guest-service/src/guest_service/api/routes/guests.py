"""Guest profiles for the front desk and dashboards: find, read with stays, create, change."""

from typing import Annotated

from fastapi import APIRouter, Query, status
from hotel_common.deps import SessionDep
from hotel_common.pagination import (
    Cursor,
    Limit,
    Page,
    split_page,
    time_id_cursor,
    time_id_value,
)

from guest_service import profiles
from guest_service.contacts import clean_phone, normalise_email
from guest_service.models import (
    GuestCreate,
    GuestDetail,
    GuestPublic,
    GuestStayPublic,
    GuestUpdate,
)

router = APIRouter(prefix="/api/v1/guests", tags=["guests"])


@router.get("")
async def list_guests(
    session: SessionDep,
    email: Annotated[str | None, Query(max_length=254, description="Exact, any case")] = None,
    phone: Annotated[str | None, Query(max_length=40, description="Exact, any spacing")] = None,
    name: Annotated[str | None, Query(max_length=200, description="Contains, any case")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[GuestPublic]:
    guests = await profiles.list_guests(
        session,
        email=normalise_email(email) if email is not None else None,
        phone=clean_phone(phone) if phone is not None else None,
        name=name.strip() if name else None,
        limit=limit + 1,  # one extra row tells whether another page exists
        after=time_id_cursor(cursor),
    )
    page, next_cursor = split_page(guests, limit, lambda g: time_id_value(g.created_at, g.id))
    return Page(items=[GuestPublic.model_validate(g) for g in page], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_guest(session: SessionDep, body: GuestCreate) -> GuestPublic:
    guest = await profiles.create_guest(session, body)
    await session.commit()
    return GuestPublic.model_validate(guest)


@router.get("/{guest_id}")
async def get_guest(session: SessionDep, guest_id: str) -> GuestDetail:
    guest = await profiles.get_guest(session, guest_id)
    stays = await profiles.stays_of(session, guest_id)
    return GuestDetail.model_validate(
        guest, update={"stays": [GuestStayPublic.model_validate(s) for s in stays]}
    )


@router.patch("/{guest_id}")
async def update_guest(session: SessionDep, guest_id: str, body: GuestUpdate) -> GuestPublic:
    guest = await profiles.get_guest(session, guest_id)
    guest = await profiles.update_guest(session, guest, body)
    await session.commit()
    return GuestPublic.model_validate(guest)

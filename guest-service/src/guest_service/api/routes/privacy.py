"""The guest's word on being contacted: contact preferences and the consent history, for staff
and for the signed-in guest (`/me/...`, declared first: "me" is not a profile id). Every change
publishes the whole snapshot (privacy.py). Who may do what: `guest_service.access`."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep
from hotel_common.principal import Principal, PrincipalDep
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import access, privacy, profiles
from guest_service.api.routes.common import (
    GUEST_ID,
    GUEST_NOT_FOUND,
    MY_NOT_FOUND,
    UNAUTHENTICATED,
    GuestCaller,
)
from guest_service.models import (
    ConsentIn,
    ConsentPublic,
    ContactPreferencesIn,
    ContactPreferencesPublic,
    MyConsentIn,
)
from guest_service.models.privacy import GUEST_SOURCE, ConsentBase

router = APIRouter(prefix="/api/v1/guests", tags=["guest privacy"])
CONSENT: dict[str, Any] = {
    "id": "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "channel": "email",
    "purpose": "marketing",
    "granted": True,
    "at": "2030-05-20T08:15:00Z",
    "source": "front_desk",
    "recorded_by": "staff:7",
    "recorded_at": "2030-05-20T08:15:02Z",
}
PREFERENCES: dict[str, Any] = {
    "guest_id": GUEST_ID,
    "channels": ["sms", "email"],
    "language": "zh-Hans",
    "quiet_hours": {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"},
    "consents": [CONSENT],
    "updated_at": "2030-05-20T08:15:02Z",
}
READ_FORBIDDEN = {403: "forbidden: desk staff and marketing only"}
WRITE_FORBIDDEN = {403: "forbidden: desk staff (front desk, reservations, manager) only"}
GUEST_ONLY = {403: "forbidden: only a signed-in guest has preferences of their own"}
INACTIVE = {409: "guest_merged (merged_into_id names the survivor) or guest_erased"}


async def _set_preferences(
    session: AsyncSession, guest_id: str, body: ContactPreferencesIn, principal: Principal
) -> ContactPreferencesPublic:
    """Replace an active guest's preferences (the profile locked), committed."""
    guest = privacy.require_active(await privacy.locked_guest(session, guest_id))
    shown = await privacy.set_preferences(session, guest, body, principal.id)
    await session.commit()
    return shown


async def _record_consent(
    session: AsyncSession,
    guest_id: str,
    body: ConsentBase,
    principal: Principal,
    *,
    source: str,
    at: datetime | None = None,
) -> ConsentPublic:
    """Record an active guest's word (the profile locked) as said from `source`, committed."""
    guest = privacy.require_active(await privacy.locked_guest(session, guest_id))
    consent = await privacy.record_consent(
        session,
        guest,
        channel=body.channel,
        purpose=body.purpose,
        granted=body.granted,
        source=source,
        by=principal.id,
        at=at,
    )
    await session.commit()
    return ConsentPublic.model_validate(consent)


# -- the signed-in guest ----------------------------------------------------------------------
@router.get(
    "/me/contact-preferences",
    summary="My contact preferences",
    responses={
        200: example(PREFERENCES),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND}),
    },
)
async def get_my_contact_preferences(
    session: SessionDep, principal: GuestCaller
) -> ContactPreferencesPublic:
    """How I like to be reached, and what I agreed to (my latest word per channel and
    purpose)."""
    return await privacy.preferences_of(session, await privacy.my_guest(session, principal))


@router.put(
    "/me/contact-preferences",
    summary="Set my contact preferences",
    responses={
        200: example(PREFERENCES),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND}),
    },
)
async def set_my_contact_preferences(
    session: SessionDep, principal: GuestCaller, body: ContactPreferencesIn
) -> ContactPreferencesPublic:
    """Replace my channel order, language and quiet hours."""
    mine = await privacy.my_guest(session, principal)
    return await _set_preferences(session, mine.id, body, principal)


@router.get(
    "/me/consents",
    summary="My consent history",
    responses={
        200: example({"items": [CONSENT], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND}),
    },
)
async def list_my_consents(
    session: SessionDep, principal: GuestCaller, paging: PagingDep
) -> Page[ConsentPublic]:
    """Everything I said about being contacted, newest first."""
    guest = await privacy.my_guest(session, principal)
    return await privacy.history_page(session, guest.id, paging)


@router.post(
    "/me/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Give or withdraw my consent",
    responses={
        201: example(CONSENT | {"source": "app", "recorded_by": "guest:lin.mei"}, "Created"),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND}),
    },
)
async def record_my_consent(
    session: SessionDep, principal: GuestCaller, body: MyConsentIn
) -> ConsentPublic:
    """Agree (`granted` true) or no longer agree to be reached on a channel for a purpose,
    from now on (source "app")."""
    mine = await privacy.my_guest(session, principal)
    return await _record_consent(session, mine.id, body, principal, source=GUEST_SOURCE)


# -- staff ------------------------------------------------------------------------------------
@router.get(
    "/{guest_id}/contact-preferences",
    summary="Get a guest's contact preferences",
    dependencies=[access.may_read_privacy],
    responses={
        200: example(PREFERENCES),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **GUEST_NOT_FOUND}),
    },
)
async def get_contact_preferences(session: SessionDep, guest_id: str) -> ContactPreferencesPublic:
    """Channels in order, language, quiet hours and the current consents. Nothing recorded:
    service notices are allowed, marketing is not."""
    return await privacy.preferences_of(session, await profiles.get_guest(session, guest_id))


@router.put(
    "/{guest_id}/contact-preferences",
    summary="Set a guest's contact preferences",
    dependencies=[access.may_record_privacy],
    responses={
        200: example(PREFERENCES),
        **problems({**UNAUTHENTICATED, **WRITE_FORBIDDEN, **GUEST_NOT_FOUND, **INACTIVE}),
    },
)
async def set_contact_preferences(
    session: SessionDep, principal: PrincipalDep, guest_id: str, body: ContactPreferencesIn
) -> ContactPreferencesPublic:
    """Replace the guest's channel order, language and quiet hours, as the guest asked."""
    return await _set_preferences(session, guest_id, body, principal)


@router.get(
    "/{guest_id}/consents",
    summary="A guest's consent history",
    dependencies=[access.may_read_privacy],
    responses={
        200: example({"items": [CONSENT], "next_cursor": None}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN, **GUEST_NOT_FOUND}),
    },
)
async def list_consents(
    session: SessionDep, guest_id: str, paging: PagingDep
) -> Page[ConsentPublic]:
    """Everything the guest said about being contacted, newest first, with when, where and
    who recorded it."""
    await profiles.get_guest(session, guest_id)  # 404 for an unknown profile
    return await privacy.history_page(session, guest_id, paging)


@router.post(
    "/{guest_id}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a guest's consent or its withdrawal",
    dependencies=[access.may_record_privacy],
    responses={
        201: example(CONSENT, "Created"),
        **problems({**UNAUTHENTICATED, **WRITE_FORBIDDEN, **GUEST_NOT_FOUND, **INACTIVE}),
    },
)
async def record_consent(
    session: SessionDep, principal: PrincipalDep, guest_id: str, body: ConsentIn
) -> ConsentPublic:
    """What the guest said, where (`source`) and when (`at`, default now; a word given
    earlier than the current one joins the history without overriding it)."""
    return await _record_consent(session, guest_id, body, principal, source=body.source, at=body.at)

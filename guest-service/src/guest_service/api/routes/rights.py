"""The guest's rights: everything held of them as one JSON document, and erasure. For managers,
and for the signed-in guest themselves (`/me/...`, declared first). See rights.py."""

import logging
from typing import Any

from fastapi import APIRouter
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.principal import Principal, PrincipalDep
from sqlmodel.ext.asyncio.session import AsyncSession

from guest_service import access, privacy, profiles, rights
from guest_service.api.routes.common import (
    GUEST_ID,
    GUEST_NOT_FOUND,
    MY_NOT_FOUND,
    UNAUTHENTICATED,
    GuestCaller,
)
from guest_service.models import ErasureIn, ErasurePublic, Guest, GuestExport

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/guests", tags=["guest rights"])
EXPORT: dict[str, Any] = {
    "guest_id": GUEST_ID,
    "exported_at": "2030-05-20T08:15:00Z",
    "parts": {
        "profile": {
            "name": "Lin Mei",
            "contacts": [{"kind": "email", "value": "lin.mei@example.com"}],
        },
        "privacy": {"contact_preferences": None, "consents": []},
    },
}
ERASURE: dict[str, Any] = {
    "guest_id": GUEST_ID,
    "erased_at": "2030-05-20T08:15:00Z",
    "erased_by": "staff:3",
    "profiles": [GUEST_ID],
    "reservation_ids": ["0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d"],
}
MANAGERS = {403: "forbidden: managers only"}
GUEST_ONLY = {403: "forbidden: only a signed-in guest has a profile of their own"}
ERASE_CONFLICT = {
    409: "guest_erased: erased already (nothing more is done); guest_merged: the profile lives "
    "on in another (merged_into_id): erase that one"
}
UNCONFIRMED = {422: "confirmation_required: `confirm` must be true"}


def _confirmed(body: ErasureIn) -> None:
    if not body.confirm:
        raise ProblemError(
            422, "confirmation_required", "An erasure cannot be undone: send confirm true."
        )


async def _export(session: AsyncSession, guest: Guest, principal: Principal) -> GuestExport:
    """The export of `guest` for `principal`, recorded (committed) and logged."""
    document = await rights.export(session, guest, principal)
    await session.commit()
    log.info("guest data exported", extra={"guest_id": guest.id, "by": principal.id})
    return document


async def _erase(session: AsyncSession, guest_id: str, principal: Principal) -> ErasurePublic:
    """Erase `guest_id` as `principal`, committed and logged."""
    erased = await rights.erase(session, guest_id, principal.id)
    await session.commit()
    log.info("guest erased", extra={"guest_id": guest_id, "by": principal.id})
    return erased


@router.get(
    "/me/export",
    summary="Export my data",
    responses={200: example(EXPORT), **problems({**UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND})},
)
async def export_my_data(session: SessionDep, principal: GuestCaller) -> GuestExport:
    """Everything the hotel's guest records hold of me, as one JSON document."""
    return await _export(session, await privacy.my_guest(session, principal), principal)


@router.post(
    "/me/erasure",
    summary="Erase my data",
    responses={
        200: example(ERASURE | {"erased_by": "guest:lin.mei"}),
        **problems({**UNAUTHENTICATED, **GUEST_ONLY, **MY_NOT_FOUND, **UNCONFIRMED}),
    },
)
async def erase_my_data(
    session: SessionDep, principal: GuestCaller, body: ErasureIn
) -> ErasurePublic:
    """Forget me: my profile is anonymised here and every service removes its copies of me
    (bookings keep their amounts). Cannot be undone."""
    _confirmed(body)
    guest = await privacy.my_guest(session, principal)
    return await _erase(session, guest.id, principal)


@router.get(
    "/{guest_id}/export",
    summary="Export a guest's data",
    dependencies=[access.may_exercise_rights],
    responses={
        200: example(EXPORT),
        **problems({**UNAUTHENTICATED, **MANAGERS, **GUEST_NOT_FOUND}),
    },
)
async def export_guest_data(
    session: SessionDep, principal: PrincipalDep, guest_id: str
) -> GuestExport:
    """Everything each part of the guest records holds of the guest, as one JSON document (for
    a guest's request at the desk; the export is recorded)."""
    return await _export(session, await profiles.get_guest(session, guest_id), principal)


@router.post(
    "/{guest_id}/erasure",
    summary="Erase a guest",
    dependencies=[access.may_exercise_rights],
    responses={
        200: example(ERASURE),
        **problems(
            {**UNAUTHENTICATED, **MANAGERS, **GUEST_NOT_FOUND, **ERASE_CONFLICT, **UNCONFIRMED}
        ),
    },
)
async def erase_guest(
    session: SessionDep, principal: PrincipalDep, guest_id: str, body: ErasureIn
) -> ErasurePublic:
    """Forget the guest: every part anonymises what it holds (amounts stay), profiles merged
    into this one included, and `guest.erased` tells every service to remove its copies. Once
    only: a second erasure is a 409 and publishes nothing."""
    _confirmed(body)
    return await _erase(session, guest_id, principal)

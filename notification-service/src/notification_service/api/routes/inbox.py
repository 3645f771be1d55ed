"""The in-app inbox (issue 20), one set of endpoints for two kinds of caller:

- a signed-in guest (the app): the copies of the notices sent to them (inbox.py), and their
  app devices for push (devices.py);
- staff of the front desk or dispatch, and managers: the alerts of their audiences
  (staff_inbox.py), each with their own read state, and their digest setting.

Anyone else is refused (401 unsigned, 403 otherwise). A message that is not the caller's is a
404, as if it did not exist.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import NotFound, ProblemError, problems
from hotel_common.pagination import PagingDep, keyset_page
from hotel_common.principal import Kind, Principal, PrincipalDep, refused
from hotel_common.strict import StrictModel
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select

from notification_service import devices, inbox, staff_inbox
from notification_service.devices import Platform
from notification_service.inbox import InboxMessage
from notification_service.staff_inbox import Digest, StaffAlert, StaffAlertRead

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])

UNAUTHENTICATED = {401: "unauthenticated: no signed-in caller"}
READ_FORBIDDEN = {
    403: "forbidden: signed-in guests, front desk, dispatchers and managers only",
}
GUESTS_ONLY = {403: "forbidden: signed-in guests only"}
STAFF_ONLY = {403: "forbidden: front desk, dispatchers and managers only"}
NOT_FOUND = {404: "inbox_message_not_found: no such message, or not yours"}

MESSAGE: dict[str, Any] = {
    "id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "kind": "reservation_confirmed",
    "title": "Booking confirmed: Bund Garden Hotel, confirmation number HV-7K3Q9D",
    "body": "Dear Lin Mei,\n\nThank you for booking ...\n",
    "reservation_id": "0b9e3c5d-7a41-4f26-8d13-5e6f7a8b9c0d",
    "transfer_id": None,
    "audience": None,
    "created_at": "2030-05-20T08:15:01Z",
    "read_at": None,
}


class InboxMessagePublic(BaseModel):
    id: str
    kind: str = Field(description="The notice's kind (guests) or the alert's (staff)")
    title: str
    body: str
    reservation_id: str | None = None
    transfer_id: str | None = None
    audience: str | None = Field(
        default=None, description="Staff alerts: dispatch or front_desk (null for guests)"
    )
    created_at: datetime = Field(description="UTC")
    read_at: datetime | None = Field(default=None, description="UTC; null while unread")


class InboxPage(BaseModel):
    items: list[InboxMessagePublic]
    next_cursor: str | None = None
    unread: int = Field(description="The caller's unread messages in all (a count)")


class ReadAll(BaseModel):
    marked: int = Field(description="How many messages were unread and are read now")


class DeviceIn(StrictModel):
    platform: Platform


class DevicePublic(BaseModel):
    token: str
    platform: Platform
    created_at: datetime
    last_seen_at: datetime


class SettingsIn(StrictModel):
    digest: Digest = Field(description="off, or every_minute: one email of the new alerts")
    email: str | None = Field(
        default=None, max_length=320, description="Where the digest goes (needed for a digest)"
    )
    language: Literal["en", "zh-Hans", "zh-Hant"] = "en"


class SettingsPublic(BaseModel):
    digest: Digest
    email: str | None
    language: str
    audiences: list[str]
    last_digest_at: datetime


def _guest(principal: Principal) -> bool:
    """True for a signed-in guest, False for staff with an audience; refuses anyone else."""
    if principal.kind is Kind.GUEST:
        return True
    if staff_inbox.audiences_of(principal):
        return False
    raise refused(principal)


def _of_guest(row: InboxMessage) -> InboxMessagePublic:
    return InboxMessagePublic.model_validate(row, from_attributes=True)


def _of_staff(row: StaffAlert, read_at: datetime | None) -> InboxMessagePublic:
    return InboxMessagePublic(
        id=row.id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        reservation_id=row.reservation_id,
        transfer_id=row.transfer_id,
        audience=row.audience,
        created_at=row.created_at,
        read_at=read_at,
    )


@router.get(
    "/messages",
    response_model=InboxPage,
    summary="List my inbox",
    responses={
        200: example({"items": [MESSAGE], "next_cursor": None, "unread": 1}),
        **problems({400: "invalid_cursor", **UNAUTHENTICATED, **READ_FORBIDDEN}),
    },
)
async def list_inbox_messages(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
) -> InboxPage:
    """Newest first. A signed-in guest: the notices sent to them (by the email or phone they
    signed in with; never sign-in codes). Front desk, dispatchers, managers: the alerts of
    their audiences, with their own read state."""
    if _guest(principal):
        owned = inbox.owned_by(principal)
        query = select(InboxMessage).where(owned)
        if unread:
            query = query.where(col(InboxMessage.read_at).is_(None))
        order = (col(InboxMessage.created_at), col(InboxMessage.id))
        page = await keyset_page(session, query, paging, *order, descending=True)
        count = await session.exec(
            select(func.count())
            .select_from(InboxMessage)
            .where(owned, col(InboxMessage.read_at).is_(None))
        )
        return InboxPage(
            items=[_of_guest(r) for r in page.items],
            next_cursor=page.next_cursor,
            unread=int(count.one()),
        )
    staff_query = (
        select(StaffAlert, StaffAlertRead.read_at)
        .outerjoin(StaffAlertRead, staff_inbox.read_by(principal.id))
        .where(col(StaffAlert.audience).in_(staff_inbox.audiences_of(principal)))
    )
    if unread:
        staff_query = staff_query.where(col(StaffAlertRead.alert_id).is_(None))
    order = (col(StaffAlert.created_at), col(StaffAlert.id))
    page = await keyset_page(session, staff_query, paging, *order, descending=True)
    return InboxPage(
        items=[_of_staff(row, read_at) for row, read_at in page.items],
        next_cursor=page.next_cursor,
        unread=await staff_inbox.unread_count(session, principal),
    )


@router.post(
    "/messages/read-all",
    response_model=ReadAll,
    summary="Mark all my messages read",
    responses={
        200: example({"marked": 3}),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN}),
    },
)
async def mark_all_inbox_messages_read(session: SessionDep, principal: PrincipalDep) -> ReadAll:
    """Every unread message of the caller is read now (idempotent: a repeat marks none)."""
    if _guest(principal):
        marked = await inbox.mark_all_read(session, principal)
    else:
        marked = await staff_inbox.mark_all_read(session, principal)
    await session.commit()
    return ReadAll(marked=marked)


@router.post(
    "/messages/{message_id}/read",
    response_model=InboxMessagePublic,
    summary="Mark one message read",
    responses={
        200: example(MESSAGE | {"read_at": "2030-05-20T09:00:00Z"}),
        **problems({**UNAUTHENTICATED, **READ_FORBIDDEN, **NOT_FOUND}),
    },
)
async def mark_inbox_message_read(
    session: SessionDep,
    principal: PrincipalDep,
    message_id: Annotated[str, Path(max_length=36)],
) -> InboxMessagePublic:
    """Idempotent: a message already read keeps its first read time. Another's is a 404."""
    if _guest(principal):
        message = await inbox.mark_read(session, principal, message_id)
        await session.commit()
        return _of_guest(message)
    alert = await staff_inbox.mark_read(session, principal, message_id)
    await session.commit()
    read = await session.get(StaffAlertRead, (alert.id, principal.id))
    return _of_staff(alert, read.read_at if read else None)


def _device_owner(principal: Principal) -> None:
    if principal.kind is not Kind.GUEST:
        raise refused(principal)
    if not principal.email and not principal.phone:
        raise ProblemError(403, "forbidden", "Sign in with an email or a phone first.")


@router.put(
    "/devices/{token}",
    response_model=DevicePublic,
    summary="Register my app device for push",
    responses={
        200: example(
            {
                "token": "fcm:abc123",
                "platform": "android",
                "created_at": "2030-05-20T08:15:01Z",
                "last_seen_at": "2030-05-20T08:15:01Z",
            }
        ),
        **problems({**UNAUTHENTICATED, **GUESTS_ONLY, 422: "validation_error"}),
    },
)
async def register_push_device(
    session: SessionDep,
    principal: PrincipalDep,
    token: Annotated[str, Path(min_length=1, max_length=512)],
    device: DeviceIn,
) -> DevicePublic:
    """Idempotent: registering a token again refreshes it, and binds it to the caller (the app
    was signed in by someone else before)."""
    _device_owner(principal)
    row = await devices.register(session, principal, token, device.platform)
    await session.commit()
    return DevicePublic.model_validate(row, from_attributes=True)


@router.delete(
    "/devices/{token}",
    status_code=204,
    summary="Forget my app device",
    responses=problems({**UNAUTHENTICATED, **GUESTS_ONLY, 404: "push_device_not_found: not yours"}),
)
async def delete_push_device(
    session: SessionDep,
    principal: PrincipalDep,
    token: Annotated[str, Path(min_length=1, max_length=512)],
) -> Response:
    """No more push to this device for the caller; a token not theirs is a 404."""
    _device_owner(principal)
    if not await devices.unregister(session, principal, token):
        raise NotFound("push_device", token)
    await session.commit()
    return Response(status_code=204)


@router.put(
    "/settings",
    response_model=SettingsPublic,
    summary="Set my staff inbox digest",
    responses={
        200: example(
            {
                "digest": "every_minute",
                "email": "desk@harbourview.example",
                "language": "en",
                "audiences": ["front_desk"],
                "last_digest_at": "2030-05-20T08:15:01Z",
            }
        ),
        **problems(
            {
                **UNAUTHENTICATED,
                **STAFF_ONLY,
                422: "validation_error or email_required: a digest needs an email address",
            }
        ),
    },
)
async def put_inbox_settings(
    session: SessionDep, principal: PrincipalDep, body: SettingsIn
) -> SettingsPublic:
    """Staff of the front desk or dispatch, managers: a digest email of their new alerts at most
    once a minute, or none."""
    if not staff_inbox.audiences_of(principal):
        raise refused(principal)
    email = body.email.strip() if body.email else None
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise ProblemError(422, "invalid_email", "The email is not an address.")
    if body.digest is Digest.EVERY_MINUTE and not email:
        raise ProblemError(422, "email_required", "A digest needs an email address.")
    row = await staff_inbox.save_settings(
        session, principal, digest=body.digest, email=email, language=body.language
    )
    await session.commit()
    return SettingsPublic.model_validate(row, from_attributes=True)

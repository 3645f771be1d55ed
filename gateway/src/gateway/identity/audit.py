"""The audit log: who did what security-relevant thing, when and from where; admins read it.

Entries are written in the session of the action they record (committed with it); failures
(a wrong password, a reused refresh token) are committed on their own before the refusal.
"""

import logging
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.deps import SessionDep
from hotel_common.errors import problems
from hotel_common.pagination import Page, PagingDep, keyset_page
from hotel_common.principal import SCOPE_KEY, Principal
from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.identity.deps import AdminDep
from gateway.identity.models import AuditEntry

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILURE = "failure"
REFUSED = "refused"


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Principal | str,
    target: str | None = None,
    ip: str | None = None,
    outcome: str = SUCCESS,
    detail: str | None = None,
    actor_kind: str | None = None,
) -> None:
    """Stage one entry in `session` (the caller commits). `actor`: a principal, or what a
    caller who is nobody yet claimed to be (the email of a failed login)."""
    if isinstance(actor, Principal):
        actor_id, kind, ip = actor.id, actor.kind.value, ip or actor.ip
    else:
        actor_id, kind = actor, actor_kind or "anonymous"
    session.add(
        AuditEntry(
            actor=actor_id[:120],
            actor_kind=kind,
            action=action,
            target=target,
            ip=ip,
            outcome=outcome,
            detail=None if detail is None else detail[:500],
        )
    )


class AuditEntryPublic(BaseModel):
    at: datetime
    actor: str
    actor_kind: str
    action: str
    target: str | None
    ip: str | None
    outcome: str
    detail: str | None


router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get(
    "",
    summary="Read the audit log (admin)",
    description="Security-relevant actions, newest first: sign-ins and failed sign-ins, "
    "lockouts, partner key creation, rotation and revocation, staff accounts and role changes, "
    "refresh-token reuse, cancellations by staff.",
    responses=problems(
        {
            400: "invalid_cursor: the cursor was issued elsewhere",
            401: "unauthenticated / invalid_credentials",
            403: "forbidden: the admin role is needed",
        }
    ),
)
async def list_audit_entries(
    session: SessionDep,
    paging: PagingDep,
    _admin: AdminDep,
    action: Annotated[str | None, Query(max_length=60, description="e.g. login")] = None,
    actor: Annotated[str | None, Query(max_length=120, description='e.g. "staff:1"')] = None,
) -> Page[AuditEntryPublic]:
    query = select(AuditEntry)
    if action is not None:
        query = query.where(col(AuditEntry.action) == action)
    if actor is not None:
        query = query.where(col(AuditEntry.actor) == actor)
    page = await keyset_page(session, query, paging, col(AuditEntry.id), descending=True)
    return page.map(lambda row: AuditEntryPublic.model_validate(row, from_attributes=True))


STAFF_CANCEL = re.compile(r"^/api/v1/reservations/([^/]+)/cancel$")


class AuditStaffCancellations:
    """Pure ASGI: a staff member's cancellation proxied to reservation-service and answered
    2xx is recorded (the service decides; the gateway remembers who asked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope.get("method") == "POST":
            match = STAFF_CANCEL.match(scope.get("path", ""))
        if match is None:
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, observe)
        principal: Principal | None = scope.get(SCOPE_KEY)
        if not status or not 200 <= status[0] < 300 or principal is None:
            return
        if not principal.is_staff:
            return
        runtime = getattr(scope["app"].state, "runtime", None)
        if runtime is None:  # no identity store (a gateway testing the proxy alone)
            return
        try:
            async with runtime.sessions() as session:
                record(session, "reservation.cancel", actor=principal, target=match.group(1))
                await session.commit()
        except Exception:  # the cancellation happened; a lost entry must not turn it into a 500
            log.exception("audit entry for a cancellation not written")

"""The delivery log as staff use it: listing notices and queueing failed ones again.

These functions never commit: the route owns the transaction. A requeue wakes the sender
once that transaction commits (hotel_common.db.after_commit).
"""

from collections.abc import Callable
from typing import Literal

from hotel_common.db import after_commit
from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.strict import StrictModel
from hotel_common.time import utcnow
from pydantic import AwareDatetime, Field
from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import statuses
from notification_service.models import Kind, ListedKind, Notification, NotificationPublic, Status

Wake = Callable[[], None]


class RetryFilter(StrictModel):
    """Which failed notices to queue again; every filter given must match (none: all)."""

    status: Literal["failed"] = Field(
        default="failed", description="Only failed notices can be retried."
    )
    kind: ListedKind | None = None
    reservation_id: str | None = Field(default=None, max_length=64)
    created_from: AwareDatetime | None = Field(default=None, description="Inclusive.")
    created_to: AwareDatetime | None = Field(default=None, description="Exclusive.")


# Sign-in codes are never listed, shown or retried through the API, whoever asks.
LISTED = col(Notification.kind) != Kind.SIGN_IN_CODE


async def page(
    session: AsyncSession,
    paging: Paging,
    *,
    visible: ColumnElement[bool] | None,
    reservation_id: str | None,
    status: Status | None,
    email: str | None,
    kind: ListedKind | None,
) -> Page[NotificationPublic]:
    """Newest first; only notices `visible` to the caller (None: all listed ones)."""
    query = select(Notification).where(LISTED)
    if visible is not None:
        query = query.where(visible)
    if reservation_id is not None:
        query = query.where(Notification.reservation_id == reservation_id)
    if status is not None:
        query = query.where(Notification.status == status)
    if email is not None:  # addresses are typed in any case
        query = query.where(func.lower(Notification.email) == email.strip().lower())
    if kind is not None:
        query = query.where(Notification.kind == kind)
    order = (col(Notification.created_at), col(Notification.id))
    rows = await keyset_page(session, query, paging, *order, descending=True)
    return rows.map(lambda r: NotificationPublic.model_validate(r, from_attributes=True))


async def get(
    session: AsyncSession, notification_id: str, visible: ColumnElement[bool] | None = None
) -> Notification:
    """One listed notice visible to the caller; 404 otherwise, as if it did not exist."""
    query = select(Notification).where(col(Notification.id) == notification_id, LISTED)
    if visible is not None:
        query = query.where(visible)
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("notification", notification_id)
    return row


def _requeue() -> dict[str, object]:
    """A fresh start: no attempts yet, due now, and the give-up age counted from now."""
    now = utcnow()
    return {
        "status": Status.QUEUED,
        "reason": None,
        "attempts": 0,
        "next_attempt_at": now,
        "leased_until": None,
        "requeued_at": now,
    }


async def requeue_failed(session: AsyncSession, filters: RetryFilter, wake: Wake) -> int:
    """Queue every failed notice matching `filters` again; how many. One UPDATE, so
    concurrent calls count each notice once, and a repeat finds nothing left to queue."""
    if (
        filters.created_from is not None
        and filters.created_to is not None
        and filters.created_from >= filters.created_to
    ):
        raise ProblemError(422, "invalid_range", "created_from must be before created_to.")
    conditions: list[ColumnElement[bool]] = [col(Notification.status) == Status.FAILED, LISTED]
    if filters.kind is not None:
        conditions.append(col(Notification.kind) == filters.kind)
    if filters.reservation_id is not None:
        conditions.append(col(Notification.reservation_id) == filters.reservation_id)
    if filters.created_from is not None:
        conditions.append(col(Notification.created_at) >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(col(Notification.created_at) < filters.created_to)
    requeued = await statuses.change(session, *conditions, values=_requeue())
    if requeued:
        after_commit(session, wake)
    return requeued


async def requeue(session: AsyncSession, notification_id: str, wake: Wake) -> Notification:
    """Queue one failed notice again; a queued one is left as is, any other state is a 409."""
    requeued = await statuses.change(
        session,
        col(Notification.id) == notification_id,
        col(Notification.status) == Status.FAILED,
        LISTED,
        values=_requeue(),
    )
    if requeued:
        after_commit(session, wake)
    row = await session.get(Notification, notification_id, populate_existing=True)
    if row is None or row.kind == Kind.SIGN_IN_CODE:
        raise NotFound("notification", notification_id)
    if row.status not in (Status.QUEUED, Status.FAILED):
        raise ProblemError(
            409,
            "notification_not_failed",
            f"The notification is {row.status}; only a failed one can be retried.",
        )
    return row

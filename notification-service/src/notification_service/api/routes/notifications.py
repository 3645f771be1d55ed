"""The delivery log: what was sent to whom, its state, and a retry for failed notices."""

from typing import Annotated

from fastapi import APIRouter, Query
from hotel_common.db import after_commit
from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.errors import NotFound, ProblemError
from hotel_common.pagination import (
    Cursor,
    Limit,
    Page,
    after_time_id,
    split_page,
    time_id_cursor,
    time_id_value,
)
from hotel_common.time import utcnow
from sqlalchemy import func, update
from sqlmodel import col, select

from notification_service.delivery import delivery_of
from notification_service.models import (
    Kind,
    Notification,
    NotificationDetail,
    NotificationPublic,
    Status,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationPublic])
async def list_notifications(
    session: SessionDep,
    reservation_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    kind: Kind | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NotificationPublic]:
    """Newest first."""
    query = select(Notification)
    if reservation_id is not None:
        query = query.where(Notification.reservation_id == reservation_id)
    if status is not None:
        query = query.where(Notification.status == status)
    if recipient is not None:  # addresses are typed in any case
        query = query.where(func.lower(Notification.recipient) == recipient.strip().lower())
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if (after := time_id_cursor(cursor)) is not None:
        query = query.where(
            after_time_id(
                col(Notification.created_at), col(Notification.id), after, descending=True
            )
        )
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
    rows, next_cursor = split_page(
        (await session.exec(query.limit(limit + 1))).all(),
        limit,
        lambda n: time_id_value(n.created_at, n.id),
    )
    return Page(
        items=[NotificationPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/{notification_id}", response_model=NotificationDetail)
async def get_notification(session: SessionDep, notification_id: str) -> NotificationDetail:
    row = await session.get(Notification, notification_id)
    if row is None:
        raise NotFound("notification", notification_id)
    return NotificationDetail.model_validate(row, from_attributes=True)


@router.post("/{notification_id}/retry", response_model=NotificationDetail)
async def retry_notification(
    session: SessionDep, runtime: RuntimeDep, notification_id: str
) -> NotificationDetail:
    """Queue a failed notice again with a fresh set of attempts; a queued one is left as is."""
    async with session.begin():
        requeued = await session.exec(
            update(Notification)
            .where(col(Notification.id) == notification_id, col(Notification.status) == "failed")
            .values(status="queued", attempts=0, next_attempt_at=utcnow())
        )
        if requeued.rowcount:
            after_commit(session, delivery_of(runtime).wake)
        row = await session.get(Notification, notification_id, populate_existing=True)
        if row is None:
            raise NotFound("notification", notification_id)
        if row.status not in ("queued", "failed"):
            raise ProblemError(
                409,
                "notification_not_failed",
                f"The notification is {row.status}; only a failed one can be retried.",
            )
    return NotificationDetail.model_validate(row, from_attributes=True)

"""THE way a notice's status changes (issue 21): one conditional UPDATE, and for a notice
about a booking a partner made (its `partner_id`, set when queued: handlers.partner_of) that
reaches sent, delivered, failed or suppressed, one `notice.status_changed` in the outbox in the
same transaction. A direct booking's notices publish nothing (partner-service, the only
consumer, keeps only its partners' bookings).

Every status change of a stored notice goes through `change` (the sender's outcomes, the
claim-time suppressions, erasure, withdrawn consent, receipts, the API's retry); a notice
recorded already suppressed when it is queued goes through `recorded`. The tests' guard
(tests/conftest.py) fails any UPDATE of `notifications.status` that did not come from here.

Cost: no read is added here. The UPDATE returns the few columns the event needs (RETURNING, on
PostgreSQL and SQLite >= 3.35); one outbox row per status reached. It adds
`status <> <the new status>` to the caller's conditions for a published status, so a status
is reached, and published, once per notice, whatever retries, receipts or replicas do.

Ordering: a notice's status is not a version of the reservation, so the event carries no
aggregate version (None): a consumer orders a notice's events by `at` (a notice moves forward
only: queued -> sent -> delivered, or -> failed / suppressed; a failed one retried through the
API goes queued again and may reach sent later). The envelope still names the reservation as
its aggregate, so consumers serialize them with the booking's other events.
"""

from datetime import datetime
from typing import Any

from hotel_common.contracts.notifications import NoticeStatusChanged
from hotel_common.events.outbox import add_event
from hotel_common.time import utcnow
from sqlalchemy import ColumnElement, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.models import Kind, Notification, Status

# The statuses a partner may be shown; queued and logged (no server: embedded mode) are not.
PUBLISHED = frozenset({Status.SENT, Status.DELIVERED, Status.FAILED, Status.SUPPRESSED})
# The execution option marking a status UPDATE as this module's (tests/conftest.py's guard).
MARK = "notice_status_change"

_RETURNED = (
    col(Notification.id),
    col(Notification.kind),
    col(Notification.channel),
    col(Notification.reservation_id),
    col(Notification.reason),
    col(Notification.partner_id),
)


def _for_a_partner(kind: str, reservation_id: str | None, partner_id: str | None) -> bool:
    # Only a partner's booking has a consumer (partner-service's feed); a direct booking's
    # notices publish nothing. A sign-in code never names a booking; said again so that it
    # cannot start to.
    return partner_id is not None and reservation_id is not None and kind != Kind.SIGN_IN_CODE


def _publish(
    session: AsyncSession,
    *,
    notice_id: str,
    kind: str,
    channel: str,
    reservation_id: str,
    status: str,
    reason: str | None,
    at: datetime,
) -> None:
    # Ids, kind, channel and outcome only: never the recipient's address or the text.
    add_event(
        session,
        NoticeStatusChanged(
            notice_id=notice_id,
            reservation_id=reservation_id,
            kind=str(kind),
            channel=str(channel),
            status=str(status),
            reason=str(reason) if reason is not None else None,
            at=at,
        ),
    )


async def change(
    session: AsyncSession,
    *where: ColumnElement[bool],
    values: dict[str, Any],
    at: datetime | None = None,
    synchronize_session: str | bool = "auto",
) -> int:
    """UPDATE the notices matching `where` with `values` (which hold the new `status`); how
    many changed. A published status is set only on notices not already in it, and each
    booking notice that reached it gets its event."""
    status = Status(values["status"])
    statement = update(Notification).where(*where).values(**values)
    statement = statement.execution_options(**{MARK: True}, synchronize_session=synchronize_session)
    if status not in PUBLISHED:
        result = await session.exec(statement)
        return int(result.rowcount)
    statement = statement.where(col(Notification.status) != status).returning(*_RETURNED)
    rows = (await session.exec(statement)).all()
    at = at or utcnow()
    for notice_id, kind, channel, reservation_id, reason, partner_id in rows:
        if _for_a_partner(kind, reservation_id, partner_id):
            _publish(
                session,
                notice_id=notice_id,
                kind=kind,
                channel=channel,
                reservation_id=reservation_id,
                status=status,
                reason=reason,
                at=at,
            )
    return len(rows)


def recorded(session: AsyncSession, notice: Notification) -> None:
    """A notice added to the session already in a published status (recorded suppressed when
    queued): its event, as `change` would publish it."""
    if notice.status in PUBLISHED and _for_a_partner(
        notice.kind, notice.reservation_id, notice.partner_id
    ):
        assert notice.reservation_id is not None
        _publish(
            session,
            notice_id=notice.id,
            kind=notice.kind,
            channel=notice.channel,
            reservation_id=notice.reservation_id,
            status=notice.status,
            reason=notice.reason,
            at=notice.created_at,
        )
